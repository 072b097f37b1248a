// Explicit instantiation of the default client (see client/wireframe_client.hpp).
#include "wireframe/client/wireframe_client.hpp"

namespace wireframe {
template class WireframeClient<LengthDelimitedCodec, Envelope>;
}  // namespace wireframe
