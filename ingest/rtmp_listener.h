#pragma once
// The one port every venue's encoder publishes to: rtmp://<host>:<port>/venue with stream key
// "<venue-id>?key=<secret>". Accepts on the data plane, gives each connection the stranger's limits
// (RtmpServerConnection), and decides each publish: the application must be "venue", the venue must be a push
// venue, the key must match (compared in constant time), and the venue must not have a live publisher already
// (the first one keeps it; a dead one is dropped after its read stall, so the encoder's retry gets in).
// Refusals are logged with the peer address and the reason, never the key; a peer retrying the same refused
// publish is logged once a minute.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ingest/push_source.h"
#include "ingest/rtmp_server_connection.h"

namespace venuecast::ingest {

class RtmpListener {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    uint16_t port = 1935;  // 0: any free port (tests)
    std::size_t maxPending = 32;  // connections that have not published yet; more are closed at once
    std::size_t maxPendingPerAddress = 8;  // the same, from one peer address
    RtmpServerConnection::Limits limits;
  };
  struct PushVenue {
    std::string key;
    PushSource* source = nullptr;
  };
  static constexpr const char* kApp = "venue";

  // A venue may have two (its primary and its backup encoder), told apart by their keys.
  RtmpListener(boost::asio::io_context& io, Options options, std::map<std::string, std::vector<PushVenue>> venues);
  ~RtmpListener();
  // Binds and starts accepting; throws std::runtime_error if the address cannot be bound.
  void start();
  // Any thread but the loop's: closes the port and every connection; returns once done (bounded).
  void stop();
  uint16_t port() const { return port_; }

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
  uint16_t port_ = 0;
};

}  // namespace venuecast::ingest
