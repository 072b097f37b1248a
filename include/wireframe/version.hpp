#pragma once

#define WIREFRAME_VERSION_MAJOR 0
#define WIREFRAME_VERSION_MINOR 1
#define WIREFRAME_VERSION_PATCH 0

namespace wireframe {
inline constexpr const char* version_string = "0.1.0";
}
