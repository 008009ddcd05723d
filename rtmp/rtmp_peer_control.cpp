#include "rtmp/rtmp_peer_control.h"

#include "rtmp/rtmp_bytes.h"
#include "rtmp/rtmp_messages.h"

namespace venuecast::rtmp {

using M = RtmpMessages;

bool RtmpPeerControl::onMessage(const RtmpChunkReader::Message& m, RtmpSendQueue& out) {
  const auto& p = m.payload;
  if (m.type == M::kWindowAckSize) {
    if (p.size() >= 4) ackWindow_ = RtmpBytes::be32(p.data());
    return true;
  }
  if (m.type == M::kUserControl) {
    if (p.size() >= 6 && p[0] == 0 && p[1] == M::kPingRequest) {
      control(out, M::kUserControl, M::pingResponse(RtmpBytes::be32(p.data() + 2)));
    }
    return true;
  }
  return false;
}

void RtmpPeerControl::onBytesReceived(uint64_t n, RtmpSendQueue& out) {
  bytesReceived_ += n;
  if (ackWindow_ > 0 && bytesReceived_ - lastAckAt_ >= ackWindow_) {
    lastAckAt_ = bytesReceived_;
    control(out, M::kAcknowledgement, M::u32Body(static_cast<uint32_t>(bytesReceived_)));
  }
}

void RtmpPeerControl::control(RtmpSendQueue& out, uint8_t type, std::vector<uint8_t> body, uint32_t newChunkSize) {
  out.push({RtmpMediaMessage::owning(type, 0, std::move(body)), kControlCsid, 0, newChunkSize, false});
}

void RtmpPeerControl::command(RtmpSendQueue& out, uint32_t csid, uint32_t streamId, std::vector<uint8_t> body) {
  out.push({RtmpMediaMessage::owning(M::kAmf0Command, 0, std::move(body)), csid, streamId, 0, false});
}

}  // namespace venuecast::rtmp
