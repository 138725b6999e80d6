// The server's Backend over an llmhost::Host.
#pragma once

#include "backend.hpp"

#include <memory>

namespace llmhost {
class Host;
}

namespace llmhost::server {

std::shared_ptr<Backend> make_host_backend(Host &host);

} // namespace llmhost::server
