#pragma once
// The event loop that moves media to the endpoints: every native RTMP output's socket, timers and packet
// pump run here, on one thread of its own, apart from the control plane (signals, supervisors' timers) so
// that neither can delay the other. One thread is enough: an output costs a few sendmsg calls per frame.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <thread>

namespace venuecast::relay {

class DataPlane {
 public:
  DataPlane();
  ~DataPlane();  // stops the loop and joins its thread
  DataPlane(const DataPlane&) = delete;
  DataPlane& operator=(const DataPlane&) = delete;

  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace venuecast::relay
