#pragma once
// The bodies of the RTMP command and protocol control messages a publisher exchanges with a server, kept apart
// from the connection so their bytes can be unit-tested: the commands in the order FFmpeg/OBS send them
// (connect, releaseStream, FCPublish, createStream, publish; FCUnpublish, deleteStream) and the parsing of the
// server's answers (_result, _error, onStatus).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rtmp/rtmp_amf0.h"

namespace venuecast::rtmp {

class RtmpMessages {
 public:
  // Message type ids (RTMP spec 5.4, 7.1).
  static constexpr uint8_t kSetChunkSize = 1;
  static constexpr uint8_t kAbort = 2;
  static constexpr uint8_t kAcknowledgement = 3;
  static constexpr uint8_t kUserControl = 4;
  static constexpr uint8_t kWindowAckSize = 5;
  static constexpr uint8_t kSetPeerBandwidth = 6;
  static constexpr uint8_t kAmf3Data = 15;
  static constexpr uint8_t kAmf3Command = 17;
  static constexpr uint8_t kAmf0Data = 18;
  static constexpr uint8_t kAmf0Command = 20;
  // User control events.
  static constexpr uint16_t kSetBufferLength = 3;
  static constexpr uint16_t kPingRequest = 6;
  static constexpr uint16_t kPingResponse = 7;

  // A command or data message from the server, e.g. _result(1, {props}, {info}), onStatus(0, null, {info}).
  struct Command {
    std::string name;
    double transaction = 0;
    std::vector<RtmpAmf0::Value> args;  // the values after the transaction id
    // From the first object argument that has a "code" (the info object of _result/_error/onStatus).
    std::string level, code, description;
    // "code: description" (or whichever of the two exists): what a failure should say.
    std::string summary() const;
  };

  static std::vector<uint8_t> connect(double txn, std::string_view app, std::string_view flashVer,
                                      std::string_view tcUrl);
  // A player's connect, as FFmpeg's rtmpproto sends it: app, flashVer, tcUrl, fpad, capabilities, audioCodecs,
  // videoCodecs, videoFunction (some servers choose what to send by the codec masks).
  static std::vector<uint8_t> connectPlayer(double txn, std::string_view app, std::string_view flashVer,
                                            std::string_view tcUrl);
  // play(txn, null, name, start): start -1000 = live only (rtmpproto's rtmp_live=live).
  static std::vector<uint8_t> play(double txn, std::string_view streamName, double start = -1000);
  static std::vector<uint8_t> setBufferLength(uint32_t streamId, uint32_t ms);  // a User Control event
  // name(txn, null, arg): releaseStream, FCPublish, FCUnpublish with a stream name.
  static std::vector<uint8_t> streamNameCall(std::string_view name, double txn, std::string_view streamName);
  static std::vector<uint8_t> createStream(double txn);
  static std::vector<uint8_t> publish(double txn, std::string_view streamName, std::string_view type = "live");
  static std::vector<uint8_t> deleteStream(double txn, uint32_t streamId);

  static std::vector<uint8_t> u32Body(uint32_t value);  // Set Chunk Size, Acknowledgement, Window Ack Size
  static std::vector<uint8_t> pingResponse(uint32_t timestamp);

  // Decodes a command (type 20, or 17 = one 0 byte then AMF0) or data (type 18) message body.
  static bool parseCommand(uint8_t type, std::span<const uint8_t> body, Command& out, std::string& error);
};

}  // namespace venuecast::rtmp
