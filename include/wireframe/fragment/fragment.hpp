#pragma once
// Everything of the fragmentation layer (docs/fragmentation.md).

#include "wireframe/fragment/fragment_adapter.hpp"   // IWYU pragma: export
#include "wireframe/fragment/fragment_error.hpp"     // IWYU pragma: export
#include "wireframe/fragment/fragment_meta.hpp"      // IWYU pragma: export
#include "wireframe/fragment/fragment_policy.hpp"    // IWYU pragma: export
#include "wireframe/fragment/fragment_strategy.hpp"  // IWYU pragma: export
#include "wireframe/fragment/fragmenter.hpp"         // IWYU pragma: export
#include "wireframe/fragment/len_flag_32k.hpp"       // IWYU pragma: export
#include "wireframe/fragment/multiplexed.hpp"        // IWYU pragma: export
#include "wireframe/fragment/reassembler.hpp"        // IWYU pragma: export
