#include "client/channel.h"

namespace veta::client {

std::shared_ptr<grpc::Channel> OpenChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    grpc::ChannelArguments args, std::chrono::milliseconds connect_wait) {
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  auto channel = grpc::CreateCustomChannel(target, credentials, args);
  // Not connected by then: the caller's RPC reports the server unreachable.
  channel->WaitForConnected(std::chrono::system_clock::now() + connect_wait);
  return channel;
}

}  // namespace veta::client
