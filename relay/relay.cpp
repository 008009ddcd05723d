#include "relay/relay.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <map>

#include "config/config_secrets.h"
#include "config/push_target.h"
#include "ingest/slate_file.h"

namespace venuecast::relay {

Relay::Relay(boost::asio::io_context& io, const config::Config& config)
    : io_(io), reportTimer_(io), dataPlane_(std::make_unique<DataPlane>()) {
  auto scrubber = std::make_shared<config::SecretScrubber>();
  config::addConfigSecrets(*scrubber, config);
  OutputWriter::Options outputOptions;
  outputOptions.dataPlane = &dataPlane_->io();
  outputOptions.scrubber = scrubber;
  std::map<std::string, std::shared_ptr<VenueHub>> byId;
  std::map<std::string, std::vector<ingest::RtmpListener::PushVenue>> pushVenues;
  // One source of a venue (its primary or its backup), delivering to `out`.
  auto addSource = [&](const std::string& venueId, const std::string& label, const std::string& url,
                       const std::string& pushKey, ingest::SourceOutput& out) {
    if (!pushKey.empty()) {
      ingest::PushSource::Options pushOptions;
      pushOptions.waitingDetail = "waiting for a publisher: rtmp://" + config.server.rtmpListen + "/" +
                                  ingest::RtmpListener::kApp + ", stream key " + venueId + "?key=****";
      auto source = std::make_unique<ingest::PushSource>(label, out, pushOptions);
      auto* raw = source.get();
      pushVenues[venueId].push_back({pushKey, raw});
      pushSources_.push_back(std::move(source));
      supervisors_.push_back(std::make_shared<SessionSupervisor>(
          io_, label, [raw](ingest::SessionControl& c) { return raw->runSession(c); }));
      return;
    }
    ingest::PullSource::Options sourceOptions;
    if (url.rfind("rtmp://", 0) == 0) {  // rtmps:// stays with libavformat (TLS), srt:// too
      const auto e = config::resolveRtmpEndpoint(url, "");
      sourceOptions.nativeTarget = ingest::RtmpPlayProtocol::Target{e.host, e.port, e.app, e.tcUrl, e.playpath};
    }
    sourceOptions.dataPlane = &dataPlane_->io();
    sourceOptions.scrub = [scrubber](const std::string& text) { return scrubber->scrub(text); };
    auto source = std::make_unique<ingest::PullSource>(label, url, out, sourceOptions);
    auto* raw = source.get();
    sources_.push_back(std::move(source));
    supervisors_.push_back(std::make_shared<SessionSupervisor>(
        io_, label, [raw](ingest::SessionControl& c) { return raw->runSession(c); }));
  };
  for (const auto& venue : config.venues) {
    auto hub = std::make_shared<VenueHub>(venue.id);
    byId[venue.id] = hub;
    hubs_.push_back(hub);
    const std::string label = "venue " + venue.id;
    if (!venue.backup.present() && !venue.standby) {
      deliveries_.push_back(std::make_unique<ingest::SourceDelivery>(*hub));
      addSource(venue.id, label, venue.url, venue.pushKey, *deliveries_.back());
      continue;
    }
    using Ms = std::chrono::milliseconds;
    ingest::SourceSwitch::Options switchOptions;
    switchOptions.failoverAfter = Ms(static_cast<int64_t>(venue.failoverAfterS * 1000));
    switchOptions.failbackAfter = Ms(static_cast<int64_t>(venue.failbackAfterS * 1000));
    switchOptions.standby = venue.standby;
    switches_.push_back(std::make_unique<ingest::SourceSwitch>(label, *hub, switchOptions));
    auto& sw = *switches_.back();
    addSource(venue.id, label, venue.url, venue.pushKey, sw.input(ingest::SourceSwitch::kPrimary));
    if (venue.backup.present()) {
      addSource(venue.id, label + " (backup)", venue.backup.url, venue.backup.pushKey,
                sw.input(ingest::SourceSwitch::kBackup));
    }
    if (venue.standby) {
      ingest::StandbySlate::Options slate;
      slate.title = venue.name.empty() ? venue.id : venue.name;
      if (!venue.slateFile.empty()) {
        try {
          slate.file = ingest::loadSlateFile(venue.slateFile);
        } catch (const std::runtime_error& e) {
          throw std::runtime_error(label + ": " + e.what());
        }
      }
      slates_.push_back(std::make_unique<ingest::StandbySlate>(label, sw, std::move(slate)));
    }
  }
  for (const auto& output : config.outputs) {
    auto writer = std::make_shared<OutputWriter>(output, byId.at(output.venue), outputOptions);
    writers_.push_back(writer);
    supervisors_.push_back(std::make_shared<SessionSupervisor>(
        io_, "output " + output.id, [writer](ingest::SessionControl& c) { return writer->runSession(c); }));
  }
  reportedDrops_.assign(writers_.size(), 0);
  if (!config.server.rtmpListen.empty()) {
    ingest::RtmpListener::Options listen;
    const auto colon = config.server.rtmpListen.rfind(':');
    listen.host = config.server.rtmpListen.substr(0, colon);
    listen.port = static_cast<uint16_t>(std::stoi(config.server.rtmpListen.substr(colon + 1)));
    listener_ = std::make_unique<ingest::RtmpListener>(dataPlane_->io(), listen, std::move(pushVenues));
  }
}

Relay::~Relay() {
  requestStop();
  join();
}

void Relay::start() {
  if (listener_) listener_->start();
  for (auto& s : supervisors_) s->start();
  for (auto& s : slates_) s->start();
  scheduleDropReport();
}

void Relay::requestStop() {
  for (auto& s : supervisors_) s->requestStop();
  boost::asio::post(io_, [this] { reportTimer_.cancel(); });
}

void Relay::join() {
  if (listener_) listener_->stop();
  for (auto& s : slates_) s->stop();
  for (auto& s : supervisors_) s->join();
}

// Drops are totals reported every few seconds, never a line per packet.
void Relay::scheduleDropReport() {
  reportTimer_.expires_after(std::chrono::seconds(5));
  reportTimer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    for (size_t i = 0; i < writers_.size(); ++i) {
      const auto stats = writers_[i]->queueStats();
      if (stats.droppedPackets != reportedDrops_[i]) {
        spdlog::warn("output {}: endpoint too slow, dropped {} packets so far in {} overflows (whole GOPs, "
                     "restarting at keyframes)",
                     writers_[i]->id(), stats.droppedPackets, stats.overflows);
        reportedDrops_[i] = stats.droppedPackets;
      }
    }
    scheduleDropReport();
  });
}

}  // namespace venuecast::relay
