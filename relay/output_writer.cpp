#include "relay/output_writer.h"

#include "relay/flv_tag_builder.h"
#include "relay/libav_output_session.h"
#include "relay/native_output_session.h"

namespace venuecast::relay {

namespace {

// Unsubscribes on every way out of a session.
class Subscription {
 public:
  Subscription(VenueHub& hub, std::shared_ptr<PacketQueue> queue) : hub_(hub), queue_(std::move(queue)) {
    queue_->reset();
    primed_ = hub_.subscribe(queue_);
  }
  ~Subscription() {
    hub_.unsubscribe(queue_);
    queue_->reset();
  }
  size_t primed() const { return primed_; }

 private:
  VenueHub& hub_;
  std::shared_ptr<PacketQueue> queue_;
  size_t primed_ = 0;
};

bool isRtmps(const std::string& url) { return url.rfind("rtmps://", 0) == 0; }

}  // namespace

OutputWriter::OutputWriter(const config::OutputConfig& output, std::shared_ptr<VenueHub> hub, Options options)
    : id_(output.id),
      output_(output),
      hub_(std::move(hub)),
      options_(std::move(options)),
      queue_(std::make_shared<PacketQueue>(options_.queue)) {
  config::makePushTarget(output.url, output.key);  // a bad URL fails here, at startup
}

bool OutputWriter::publishesNatively(const ingest::StreamSet& layout) const {
  if (!options_.dataPlane || isRtmps(output_.url)) return false;
  return FlvTagBuilder(layout.video.get(), layout.audio.get()).unsupported().empty();
}

ingest::SessionOutcome OutputWriter::runSession(ingest::SessionControl& control) {
  Subscription subscription(*hub_, queue_);

  // Wait for the venue: the first packet out of the queue is always a keyframe.
  ingest::PacketPtr first;
  bool announcedWait = false;
  while (!first) {
    if (control.stopRequested()) return ingest::SessionOutcome::stopped();
    first = queue_->pop(std::chrono::milliseconds(100));
    if (!first && !announcedWait) {
      control.reportWaiting("waiting for venue " + hub_->venueId());
      announcedWait = true;
    }
  }
  const OutputSessionContext ctx{id_, *queue_, first, subscription.primed(), control, counters_, options_.confirmAfter};
  const std::string& key = output_.key;

  if (publishesNatively(*first->streams)) {
    NativeOutputSetup setup;
    const config::RtmpEndpoint e = config::resolveRtmpEndpoint(output_.url, key);
    setup.target = {e.host, e.port, e.app, e.tcUrl, e.playpath};
    setup.publisher.connectTimeout = options_.connectLimit;
    setup.publisher.closeTimeout = options_.stopGrace;
    setup.publisher.writeStall = options_.writeStall;
    setup.publisher.sendBufferBytes = options_.sendBufferBytes;
    setup.scrubber = options_.scrubber;
    return runNativeOutputSession(setup, *options_.dataPlane, ctx);
  }
  LibavOutputSetup setup;
  setup.target = config::makePushTarget(output_.url, key);
  setup.rtmps = isRtmps(output_.url);
  setup.tlsVerify = output_.tlsVerify;
  setup.caFile = output_.caFile;
  setup.connectLimit = options_.connectLimit;
  setup.writeStall = options_.writeStall;
  setup.stopGrace = options_.stopGrace;
  setup.rwTimeoutUs = options_.rwTimeoutUs;
  setup.sendBufferBytes = options_.sendBufferBytes;
  return runLibavOutputSession(setup, ctx);
}

}  // namespace venuecast::relay
