// The address a veta server listens on, and its clients call, unless told otherwise: defined
// once, for veta-server, the CLI and every tool. No gRPC here: the server takes it without
// linking the client library.
#pragma once

namespace veta {

inline constexpr char kDefaultServer[] = "127.0.0.1:7480";

}  // namespace veta
