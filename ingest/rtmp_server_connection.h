#pragma once
// One encoder's connection to our RTMP listener, on the data plane: reads into RtmpServerProtocol, writes its
// replies without blocking, and enforces the limits a stranger gets (a deadline to have published) and a
// publisher gets (no data for `readStall` = gone). Whoever accepts the publish (PushSource) takes its media and
// hears how it ended; nothing here knows venues or keys.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ingest/rtmp_server_protocol.h"
#include "rtmp/rtmp_send_queue.h"

namespace venuecast::ingest {

class RtmpServerConnection : public std::enable_shared_from_this<RtmpServerConnection> {
 public:
  using Executor = boost::asio::io_context::executor_type;
  using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
  struct Limits {
    std::chrono::milliseconds publishDeadline{10'000};  // from accept to an accepted publish
    std::chrono::milliseconds readStall{4'000};         // publishing, no data for this long: the publisher is gone
  };
  struct End {
    bool publisherLeft = false;  // FCUnpublish / deleteStream, or the peer closed the connection
    std::string why;             // otherwise what went wrong (never holds the key)
  };
  // Asked (on the loop) when the peer publishes; an accepting decider calls attach() before it returns.
  using Decider = std::function<RtmpServerProtocol::Decision(const RtmpServerProtocol::PublishRequest&,
                                                             const std::shared_ptr<RtmpServerConnection>&)>;
  using MediaHandler = std::function<void(rtmp::RtmpChunkReader::Message&)>;
  using EndHandler = std::function<void(const End&)>;
  using ClosedHandler = std::function<void(RtmpServerConnection&, const End&)>;

  // `onClosed` hears every connection's end (the listener counts them); `onEnd` (attach) only a publisher's.
  static std::shared_ptr<RtmpServerConnection> create(Socket socket, Limits limits, Decider decide,
                                                      ClosedHandler onClosed);
  void start();
  // Loop only (from the decider): where media goes from now on, and who hears the end of the publish.
  void attach(MediaHandler onMedia, EndHandler onEnd);
  // Any thread: ends the connection (the end handler then hears `why`).
  void close(std::string why);

  const std::string& peer() const { return peer_; }
  bool publishing() const { return protocol_.publishing(); }

 private:
  RtmpServerConnection(Socket socket, Limits limits, Decider decide, ClosedHandler onClosed);
  void doRead();
  void onRead(const boost::system::error_code& ec, std::size_t n);
  bool flush();  // non-blocking; false on a write error
  void waitWritable();
  void armTimer();
  void finish(End end);

  Socket socket_;
  Limits limits_;
  Decider decide_;
  ClosedHandler onClosed_;
  MediaHandler onMedia_;
  EndHandler onEnd_;
  RtmpServerProtocol protocol_;
  rtmp::RtmpSendQueue sendQueue_;
  boost::asio::basic_waitable_timer<std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>,
                                    Executor>
      timer_;
  std::vector<uint8_t> in_;
  std::string peer_;
  std::chrono::steady_clock::time_point acceptedAt_, lastData_;
  bool writeWaiting_ = false;
  bool closing_ = false;  // the protocol ended the connection: flush what is queued, then close
  bool done_ = false;
};

}  // namespace venuecast::ingest
