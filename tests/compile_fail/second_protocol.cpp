// Must not compile: an app has one protocol; a second with_protocol() would silently drop the
// first one's hooks.
#include "wireframe/app/wireframe_app.hpp"

using namespace wireframe;

struct First {};
struct Second {};

void use() { (void)WireframeApp<>().with_protocol(First{}).with_protocol(Second{}); }
