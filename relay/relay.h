#pragma once
// The assembled relay: one hub + pull source per venue, one writer per output, each source and output
// kept alive by its own supervisor on the shared control plane; the outputs' sockets on the data plane.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <vector>

#include "config/config.h"
#include "config/redaction.h"
#include "ingest/pull_source.h"
#include "ingest/push_source.h"
#include "ingest/rtmp_listener.h"
#include "ingest/source_delivery.h"
#include "ingest/source_switch.h"
#include "ingest/standby_slate.h"
#include "relay/data_plane.h"
#include "relay/output_writer.h"
#include "relay/session_supervisor.h"
#include "relay/venue_hub.h"

namespace venuecast::relay {

class Relay {
 public:
  // Throws std::runtime_error when a venue's slate file cannot be used.
  Relay(boost::asio::io_context& io, const config::Config& config);
  ~Relay();

  void start();        // control-plane thread; throws std::runtime_error if the push listener cannot bind
  void requestStop();  // any thread, non-blocking
  void join();         // blocks until every worker thread has exited

 private:
  void scheduleDropReport();

  boost::asio::io_context& io_;
  std::vector<std::shared_ptr<VenueHub>> hubs_;
  // Where each venue's sources deliver: through the venue's switch (backup, standby slate), or, with neither, to
  // the venue directly.
  std::vector<std::unique_ptr<ingest::SourceDelivery>> deliveries_;
  std::vector<std::unique_ptr<ingest::SourceSwitch>> switches_;
  std::vector<std::unique_ptr<ingest::StandbySlate>> slates_;  // stopped in join(), before the switches go
  std::vector<std::unique_ptr<ingest::PullSource>> sources_;
  std::vector<std::unique_ptr<ingest::PushSource>> pushSources_;
  std::vector<std::shared_ptr<OutputWriter>> writers_;
  std::vector<std::shared_ptr<SessionSupervisor>> supervisors_;
  std::vector<uint64_t> reportedDrops_;
  boost::asio::steady_timer reportTimer_;
  // Declared last so it stops first: by then every session has ended (join), and no handler of its can
  // outlive the writers it refers to.
  std::unique_ptr<DataPlane> dataPlane_;
  // Stopped in join(), before the sources it hands publishers to; destroyed before the data plane.
  std::unique_ptr<ingest::RtmpListener> listener_;
};

}  // namespace venuecast::relay
