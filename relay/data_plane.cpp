#include "relay/data_plane.h"

#include <pthread.h>

namespace venuecast::relay {

DataPlane::DataPlane()
    : work_(boost::asio::make_work_guard(io_)), thread_([this] {
        pthread_setname_np(pthread_self(), "vc-data");
        io_.run();
      }) {}

DataPlane::~DataPlane() {
  work_.reset();
  io_.stop();
  thread_.join();
}

}  // namespace venuecast::relay
