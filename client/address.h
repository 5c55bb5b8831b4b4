// What veta-server and its clients agree on, defined once, for veta-server, the CLI and every
// tool: the address the server listens on, and its clients call, unless told otherwise; the
// trailing metadata that names a refused Submit's code. No gRPC here: the server takes it
// without linking the client library.
#pragma once

namespace veta {

inline constexpr char kDefaultServer[] = "127.0.0.1:7480";
// Trailing metadata of a refused Submit: the refusal code's name (veta.v1.Refusal), so that a
// program need not parse the "[CODE]" out of the status message.
inline constexpr char kRefusalMetadata[] = "veta-refusal";

}  // namespace veta
