#include "ingest/rtmp_listener.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <future>
#include <stdexcept>

namespace venuecast::ingest {

using boost::system::error_code;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Decision = RtmpServerProtocol::Decision;

namespace {

constexpr std::chrono::seconds kRepeatLogEvery{60};

// Compared in constant time, so that response timing does not reveal how much of a guess was right.
bool sameKey(const std::string& given, const std::string& expected) {
  unsigned char diff = given.size() != expected.size() ? 1 : 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    diff |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
  }
  return diff == 0 && !expected.empty();
}

// "<venue-id>?key=<secret>" (other parameters are ignored) -> id, key.
void splitStreamName(const std::string& name, std::string& id, std::string& key) {
  const auto q = name.find('?');
  id = name.substr(0, q);
  key.clear();
  if (q == std::string::npos) return;
  std::size_t at = q + 1;
  while (at <= name.size()) {
    const auto end = std::min(name.find('&', at), name.size());
    if (name.compare(at, 4, "key=") == 0) key = name.substr(at + 4, end - at - 4);
    at = end + 1;
  }
}

Decision refuse(std::string code, std::string description) { return {false, std::move(code), std::move(description)}; }

}  // namespace

struct RtmpListener::Shared : std::enable_shared_from_this<Shared> {
  using Executor = boost::asio::io_context::executor_type;
  Shared(boost::asio::io_context& io, Options o, std::map<std::string, std::vector<PushVenue>> v)
      : acceptor(io.get_executor()), options(std::move(o)), venues(std::move(v)) {}

  boost::asio::basic_socket_acceptor<tcp, Executor> acceptor;
  Options options;
  std::map<std::string, std::vector<PushVenue>> venues;
  // Loop only:
  std::map<RtmpServerConnection*, std::shared_ptr<RtmpServerConnection>> connections;
  std::size_t pending = 0;
  std::map<std::string, std::size_t> pendingFrom;  // by peer address
  bool overloaded = false;
  bool stopped = false;
  std::map<std::string, Clock::time_point> logged;  // "<address> <reason>" -> when

  std::string url() const { return "rtmp://" + options.host + ":" + std::to_string(acceptor.local_endpoint().port()) + "/" + kApp; }

  // Once a minute per peer address and reason: an encoder retrying with a wrong key must not flood the log.
  bool shouldLog(const std::string& peer, const std::string& reason) {
    const std::string address = peer.substr(0, peer.rfind(':'));
    const auto now = Clock::now();
    auto& last = logged[address + " " + reason];
    if (last != Clock::time_point{} && now - last < kRepeatLogEvery) return false;
    last = now;
    if (logged.size() > 1024) logged.clear();  // bounded, whatever a scanner does
    return true;
  }

  void accept() {
    acceptor.async_accept([self = shared_from_this()](const error_code& ec, tcp::socket::rebind_executor<Executor>::other socket) {
      if (self->stopped) return;
      if (ec) {
        spdlog::warn("push listener: accept failed: {}", ec.message());
      } else {
        self->admit(std::move(socket));
      }
      self->accept();
    });
  }

  void admit(RtmpServerConnection::Socket socket) {
    error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    const std::string address = ec ? std::string("?") : remote.address().to_string();
    // One address (a scanner, a slowloris client) cannot take every pending slot from the venues.
    if (pendingFrom[address] >= options.maxPendingPerAddress) {
      if (shouldLog(address + ":0", "too many pending connections")) {
        spdlog::warn("push listener: {} has {} connections that have not published yet; closing its new ones", address,
                     pendingFrom[address]);
      }
      error_code ignored;
      socket.close(ignored);
      return;
    }
    if (pending >= options.maxPending) {
      if (!overloaded) {
        spdlog::warn("push listener: {} connections have not published yet; closing new ones until some publish "
                     "or time out", pending);
        overloaded = true;
      }
      error_code ignored;
      socket.close(ignored);
      return;
    }
    ++pending;
    ++pendingFrom[address];
    auto counted = std::make_shared<std::string>(address);  // non-empty: still counted as pending
    auto weak = weak_from_this();
    auto connection = RtmpServerConnection::create(
        std::move(socket), options.limits,
        [weak, counted](const RtmpServerProtocol::PublishRequest& r, const std::shared_ptr<RtmpServerConnection>& c) {
          auto self = weak.lock();
          if (!self) return refuse("NetStream.Publish.Denied", "the server is stopping");
          Decision d = self->decide(r, c);
          if (d.accept && !counted->empty()) self->released(*counted);
          return d;
        },
        [weak, counted](RtmpServerConnection& c, const RtmpServerConnection::End& end) {
          auto self = weak.lock();
          if (!self) return;
          if (!counted->empty()) {
            self->released(*counted);
            // A stranger that sent garbage or stalled; a refused publish was logged when it was refused.
            if (!end.publisherLeft && end.why.rfind("publish refused", 0) != 0 && self->shouldLog(c.peer(), end.why)) {
              spdlog::info("push from {} dropped before publishing: {}", c.peer(), end.why);
            }
          }
          self->connections.erase(&c);
        });
    connections[connection.get()] = connection;
    connection->start();
  }

  // `address` is cleared: the connection is counted no more.
  void released(std::string& address) {
    if (auto it = pendingFrom.find(address); it != pendingFrom.end() && --it->second == 0) pendingFrom.erase(it);
    address.clear();
    --pending;
    if (overloaded && pending < options.maxPending) {
      spdlog::info("push listener: accepting new connections again");
      overloaded = false;
    }
  }

  // Every key is compared (in constant time), whichever matches.
  static const PushVenue* sourceWithKey(const std::vector<PushVenue>& sources, const std::string& key) {
    const PushVenue* found = nullptr;
    for (const auto& s : sources) {
      if (sameKey(key, s.key)) found = &s;
    }
    return found;
  }

  Decision decide(const RtmpServerProtocol::PublishRequest& r, const std::shared_ptr<RtmpServerConnection>& c) {
    Decision d;
    std::string id, key;
    splitStreamName(r.streamName, id, key);
    const auto venue = venues.find(id);
    if (r.app != kApp) {
      d = refuse("NetStream.Publish.BadName", "unknown application (publish to " + url() + ")");
    } else if (venue == venues.end()) {
      // The name is not echoed: an operator may have pasted a key where the venue id belongs.
      d = refuse("NetStream.Publish.BadName", "unknown venue (the stream key is '<venue-id>?key=<secret>')");
    } else if (const PushVenue* source = sourceWithKey(venue->second, key); !source) {
      d = refuse("NetStream.Publish.Denied", std::string(key.empty() ? "missing" : "wrong") + " key for venue '" + id + "'");
    } else if (!source->source->claim(c)) {
      d = refuse("NetStream.Publish.BadName", "venue '" + id + "' already has a live publisher");
    } else {
      return {true, {}, {}};
    }
    if (shouldLog(c->peer(), d.description)) spdlog::warn("push from {} refused: {}", c->peer(), d.description);
    return d;
  }
};

RtmpListener::RtmpListener(boost::asio::io_context& io, Options options,
                           std::map<std::string, std::vector<PushVenue>> venues)
    : shared_(std::make_shared<Shared>(io, std::move(options), std::move(venues))) {}

RtmpListener::~RtmpListener() { stop(); }

void RtmpListener::start() {
  auto& a = shared_->acceptor;
  const auto& o = shared_->options;
  error_code ec;
  const auto address = boost::asio::ip::make_address(o.host, ec);
  if (ec) throw std::runtime_error("push listener: '" + o.host + "' is not an IP address");
  const tcp::endpoint endpoint(address, o.port);
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("push listener: cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " +
                             ec.message());
  }
  port_ = a.local_endpoint().port();
  spdlog::info("push listener: venues publish to {} with stream key '<venue-id>?key=<secret>'", shared_->url());
  boost::asio::post(a.get_executor(), [s = shared_] { s->accept(); });
}

void RtmpListener::stop() {
  if (!shared_) return;
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  boost::asio::post(shared_->acceptor.get_executor(), [s = shared_, done] {
    s->stopped = true;
    error_code ignored;
    s->acceptor.close(ignored);
    auto connections = std::move(s->connections);
    for (auto& [raw, c] : connections) c->close("venuecast is stopping");
    done->set_value();
  });
  finished.wait_for(std::chrono::seconds(2));
  shared_.reset();
}

}  // namespace venuecast::ingest
