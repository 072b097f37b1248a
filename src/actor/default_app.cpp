// Explicit instantiation of the default app's actor (see server/connection_factory.hpp).
#include "wireframe/server/connection_factory.hpp"

namespace wireframe {
template class ConnectionActor<DefaultBuiltApp>;
template class detail::AppConnectionFactory<DefaultBuiltApp>;
}  // namespace wireframe
