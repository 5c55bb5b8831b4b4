// A channel to a veta server that has connected, or has tried for a bounded time.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

namespace veta::client {

// Creates the channel with a short reconnect backoff and waits up to `connect_wait` for it to
// connect. Why: Debian's gRPC 1.51 reads connect()'s errno late (fixed upstream in
// grpc/grpc#35064), and any call in between that sets errno (absl probing a /sys file the first
// time a lock is contended) makes a connection in progress look failed ("No such file or
// directory"); a single fail-fast RPC then fails although the server is up. A second attempt
// 100 ms later succeeds. A server that is really down still gets its RPCs refused after the
// wait, with gRPC's UNAVAILABLE.
std::shared_ptr<grpc::Channel> OpenChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    grpc::ChannelArguments args = {},
    std::chrono::milliseconds connect_wait = std::chrono::seconds(3));

}  // namespace veta::client
