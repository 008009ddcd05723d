#pragma once
// The housekeeping every RTMP client owes the server, whether it publishes or plays: acknowledge each window of
// received bytes (RTMP spec 5.4.3; a server may stop sending to a peer that does not) and answer pings; plus the
// two ways a client queues its own messages (protocol control on chunk stream 2, commands on their own).
#include <cstdint>
#include <vector>

#include "rtmp/rtmp_chunk_reader.h"
#include "rtmp/rtmp_send_queue.h"

namespace venuecast::rtmp {

class RtmpPeerControl {
 public:
  static constexpr uint32_t kControlCsid = 2;

  // Window Acknowledgement Size and Ping Request; true if `m` was one of those (answered into `out`).
  bool onMessage(const RtmpChunkReader::Message& m, RtmpSendQueue& out);
  // Counts received bytes (everything after the handshake) and queues an Acknowledgement when one is due.
  void onBytesReceived(uint64_t n, RtmpSendQueue& out);
  uint32_t ackWindow() const { return ackWindow_; }

  static void control(RtmpSendQueue& out, uint8_t type, std::vector<uint8_t> body, uint32_t newChunkSize = 0);
  static void command(RtmpSendQueue& out, uint32_t csid, uint32_t streamId, std::vector<uint8_t> body);

 private:
  uint32_t ackWindow_ = 0;
  uint64_t bytesReceived_ = 0, lastAckAt_ = 0;
};

}  // namespace venuecast::rtmp
