#pragma once
// Umbrella header: everything a protocol server or client needs.

#include "wireframe/version.hpp"

#include "wireframe/buffer/byte_buffer.hpp"
#include "wireframe/error/errc.hpp"
#include "wireframe/error/wireframe_error.hpp"
#include "wireframe/log/events.hpp"
#include "wireframe/log/log.hpp"
#include "wireframe/observe/metrics.hpp"
#include "wireframe/observe/tracer.hpp"

#include "wireframe/codec/frame_codec.hpp"
#include "wireframe/codec/length_delimited.hpp"
#include "wireframe/codec/unframed.hpp"

#include "wireframe/packet/envelope.hpp"
#include "wireframe/packet/message.hpp"
#include "wireframe/packet/packet.hpp"

#include "wireframe/response/response.hpp"
#include "wireframe/response/stream.hpp"

#include "wireframe/app/app_state.hpp"
#include "wireframe/app/connection_context.hpp"
#include "wireframe/app/settings.hpp"
#include "wireframe/app/wireframe_app.hpp"

#include "wireframe/push/dead_letter_queue.hpp"
#include "wireframe/push/push_handle.hpp"
#include "wireframe/push/session_registry.hpp"

#include "wireframe/protocol/wireframe_protocol.hpp"
#include "wireframe/processor/frame_processor.hpp"

#include "wireframe/fragment/fragment.hpp"

#include "wireframe/preamble/preamble_decoder.hpp"
#include "wireframe/preamble/preamble_hooks.hpp"

#include "wireframe/transport/memory_socket.hpp"
#include "wireframe/transport/stream_socket.hpp"
#include "wireframe/transport/tls_session.hpp"

#include "wireframe/actor/connection_actor.hpp"
#include "wireframe/server/wireframe_server.hpp"

#include "wireframe/client/wireframe_client.hpp"
