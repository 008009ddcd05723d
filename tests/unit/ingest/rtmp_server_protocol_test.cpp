// RtmpServerProtocol: what an encoder hears from venuecast's listener, for OBS's exact command sequence and for
// refusals, strangers and garbage.
#include "ingest/rtmp_server_protocol.h"

#include <gtest/gtest.h>

#include "rtmp/rtmp_amf0.h"
#include "rtmp/rtmp_bytes.h"
#include "rtmp/rtmp_messages.h"
#include "rtmp/rtmp_peer_control.h"

namespace venuecast::ingest {
namespace {

using rtmp::RtmpMessages;
using Value = rtmp::RtmpAmf0::Value;
using Message = rtmp::RtmpChunkReader::Message;
using Bytes = std::vector<uint8_t>;

Bytes drain(rtmp::RtmpSendQueue& q) {
  Bytes out;
  while (q.hasQueued()) {
    q.startBatch(1 << 20);
    for (const auto& b : q.pending(1 << 20)) {
      const auto* p = static_cast<const uint8_t*>(b.data());
      out.insert(out.end(), p, p + b.size());
    }
    q.finishBatch();
  }
  return out;
}

Bytes amf(std::initializer_list<Value> values) {
  Bytes out;
  for (const auto& v : values) rtmp::RtmpAmf0::encode(v, out);
  return out;
}

// An encoder: queues its messages with our chunk writer (chunk size 128 until it announces another).
struct Encoder {
  rtmp::RtmpSendQueue queue;
  void control(uint8_t type, Bytes body, uint32_t newChunkSize = 0) {
    rtmp::RtmpPeerControl::control(queue, type, std::move(body), newChunkSize);
  }
  void command(Bytes body, uint32_t streamId = 0) { rtmp::RtmpPeerControl::command(queue, 3, streamId, std::move(body)); }
  void media(uint8_t type, uint32_t ts, Bytes body) {
    queue.push({rtmp::RtmpMediaMessage::owning(type, ts, std::move(body)), 6, 1, 0, true});
  }
  Bytes bytes() { return drain(queue); }
};

Bytes handshake(uint8_t version = 3) {
  Bytes b(1 + 2 * RtmpServerProtocol::kHandshakeSize, 0);
  b[0] = version;
  for (std::size_t i = 9; i <= RtmpServerProtocol::kHandshakeSize; ++i) b[i] = static_cast<uint8_t>(i * 7);
  return b;
}

class RtmpServerProtocolTest : public ::testing::Test {
 protected:
  std::vector<RtmpServerProtocol::PublishRequest> requests;
  RtmpServerProtocol::Decision decision{true, {}, {}};
  std::vector<Message> media;
  RtmpServerProtocol server{[this](const RtmpServerProtocol::PublishRequest& r) {
                              requests.push_back(r);
                              return decision;
                            },
                            [this](Message& m) { media.push_back(std::move(m)); }};
  rtmp::RtmpSendQueue out;
  rtmp::RtmpChunkReader replies;
  bool handshakeChecked = false;

  // What the server answered since the last call, parsed as the encoder would.
  std::vector<Message> answers() {
    Bytes b = drain(out);
    std::size_t at = 0;
    if (!handshakeChecked && b.size() >= 1 + 2 * RtmpServerProtocol::kHandshakeSize) {
      const Bytes c = handshake();
      EXPECT_EQ(b[0], 3);
      EXPECT_TRUE(std::equal(c.begin() + 1, c.begin() + 1 + RtmpServerProtocol::kHandshakeSize,
                             b.begin() + 1 + RtmpServerProtocol::kHandshakeSize))
          << "S2 must echo C1";
      at = 1 + 2 * RtmpServerProtocol::kHandshakeSize;
      handshakeChecked = true;
    }
    std::vector<Message> m;
    EXPECT_TRUE(replies.feed({b.data() + at, b.size() - at}, m)) << replies.error();
    return m;
  }

  static RtmpMessages::Command parse(const Message& m) {
    RtmpMessages::Command c;
    std::string error;
    EXPECT_TRUE(RtmpMessages::parseCommand(m.type, m.payload, c, error)) << error;
    return c;
  }

  // OBS (librtmp) up to createStream's answer: Set Chunk Size 4096, connect with FMLE's properties, then after
  // the _result its Window Ack Size and buffer length, releaseStream, FCPublish, createStream.
  void obsUpToCreateStream(const std::string& name) {
    ASSERT_TRUE(server.feed(handshake(), out));
    Encoder obs;
    obs.control(RtmpMessages::kSetChunkSize, RtmpMessages::u32Body(4096), 4096);
    obs.command(amf({Value::makeString("connect"), Value::makeNumber(1),
                     Value::makeObject({{"app", Value::makeString("venue")},
                                        {"type", Value::makeString("nonprivate")},
                                        {"flashVer", Value::makeString("FMLE/3.0 (compatible; FMSc/1.0)")},
                                        {"swfUrl", Value::makeString("rtmp://127.0.0.1:1935/venue")},
                                        {"tcUrl", Value::makeString("rtmp://127.0.0.1:1935/venue")}})}));
    ASSERT_TRUE(server.feed(obs.bytes(), out));
    auto a = answers();
    ASSERT_EQ(a.size(), 4u);
    EXPECT_EQ(a[0].type, RtmpMessages::kWindowAckSize);
    EXPECT_EQ(a[1].type, RtmpMessages::kSetPeerBandwidth);
    EXPECT_EQ(a[2].type, RtmpMessages::kSetChunkSize);
    const auto connected = parse(a[3]);
    EXPECT_EQ(connected.name, "_result");
    EXPECT_EQ(connected.transaction, 1);
    EXPECT_EQ(connected.code, "NetConnection.Connect.Success");

    obs.control(RtmpMessages::kWindowAckSize, RtmpMessages::u32Body(2'500'000));
    obs.control(RtmpMessages::kUserControl, RtmpMessages::setBufferLength(0, 3000));
    obs.command(amf({Value::makeString("releaseStream"), Value::makeNumber(2), Value::makeNull(), Value::makeString(name)}));
    obs.command(amf({Value::makeString("FCPublish"), Value::makeNumber(3), Value::makeNull(), Value::makeString(name)}));
    obs.command(amf({Value::makeString("createStream"), Value::makeNumber(4), Value::makeNull()}));
    ASSERT_TRUE(server.feed(obs.bytes(), out));
    a = answers();
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(parse(a[0]).transaction, 2);
    EXPECT_EQ(parse(a[1]).transaction, 3);
    const auto created = parse(a[2]);
    EXPECT_EQ(created.transaction, 4);
    ASSERT_EQ(created.args.size(), 2u);
    EXPECT_EQ(created.args[1].number, RtmpServerProtocol::kStreamId);
    encoder = std::move(obs);
  }

  Bytes publish(const std::string& name) {
    encoder.command(amf({Value::makeString("publish"), Value::makeNumber(5), Value::makeNull(), Value::makeString(name),
                         Value::makeString("live")}),
                    RtmpServerProtocol::kStreamId);
    return encoder.bytes();
  }

  Encoder encoder;
};

TEST_F(RtmpServerProtocolTest, ObsSequencePublishesAndItsMediaComesThroughUntilFCUnpublish) {
  obsUpToCreateStream("shanghai?key=s3cret-shanghai");
  ASSERT_TRUE(server.feed(publish("shanghai?key=s3cret-shanghai"), out));
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].app, "venue");
  EXPECT_EQ(requests[0].streamName, "shanghai?key=s3cret-shanghai");
  EXPECT_EQ(requests[0].tcUrl, "rtmp://127.0.0.1:1935/venue");
  auto a = answers();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].type, RtmpMessages::kUserControl);  // Stream Begin 1
  EXPECT_EQ(a[0].payload, (Bytes{0, 0, 0, 0, 0, 1}));
  const auto started = parse(a[1]);
  EXPECT_EQ(started.name, "onStatus");
  EXPECT_EQ(started.code, "NetStream.Publish.Start");
  EXPECT_EQ(a[1].streamId, RtmpServerProtocol::kStreamId);
  EXPECT_TRUE(server.publishing());

  encoder.media(RtmpMessages::kAmf0Data, 0,
                amf({Value::makeString("@setDataFrame"), Value::makeString("onMetaData"),
                     Value::makeEcmaArray({{"videocodecid", Value::makeNumber(7)}})}));
  const Bytes frame(70'000, 0x17);  // bigger than a stranger may send: publishers are trusted with more
  encoder.media(9, 40, frame);
  ASSERT_TRUE(server.feed(encoder.bytes(), out));
  ASSERT_EQ(media.size(), 2u);
  EXPECT_EQ(media[0].type, RtmpMessages::kAmf0Data);
  EXPECT_EQ(media[1].type, 9);
  EXPECT_EQ(media[1].timestamp, 40u);
  EXPECT_EQ(media[1].payload, frame);

  encoder.command(amf({Value::makeString("FCUnpublish"), Value::makeNumber(6), Value::makeNull(),
                       Value::makeString("shanghai?key=s3cret-shanghai")}));
  EXPECT_FALSE(server.feed(encoder.bytes(), out));
  EXPECT_EQ(server.state(), RtmpServerProtocol::State::Ended);
}

TEST_F(RtmpServerProtocolTest, ARefusedPublishGetsAnErrorStatusAndEndsTheConnection) {
  decision = {false, "NetStream.Publish.Denied", "wrong key for venue 'shanghai'"};
  obsUpToCreateStream("shanghai?key=guess");
  EXPECT_FALSE(server.feed(publish("shanghai?key=guess"), out));
  EXPECT_EQ(server.state(), RtmpServerProtocol::State::Failed);
  EXPECT_EQ(server.error(), "publish refused: wrong key for venue 'shanghai'");
  const auto a = answers();
  ASSERT_EQ(a.size(), 1u);
  const auto refused = parse(a[0]);
  EXPECT_EQ(refused.name, "onStatus");
  EXPECT_EQ(refused.level, "error");
  EXPECT_EQ(refused.code, "NetStream.Publish.Denied");
  EXPECT_EQ(refused.description, "wrong key for venue 'shanghai'");
}

TEST_F(RtmpServerProtocolTest, TheHandshakeMayArriveByteByByte) {
  const Bytes h = handshake();
  for (uint8_t b : h) ASSERT_TRUE(server.feed({&b, 1}, out));
  EXPECT_EQ(server.state(), RtmpServerProtocol::State::Connected);
  EXPECT_TRUE(answers().empty());
  EXPECT_TRUE(handshakeChecked);
}

TEST_F(RtmpServerProtocolTest, StrangersAreDroppedForGarbageMediaBeforePublishOrHugeMessages) {
  {
    const Bytes http = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P'};
    EXPECT_FALSE(server.feed(http, out));
    EXPECT_EQ(server.error(), "not an RTMP client (first byte 71)");
  }
  {
    RtmpServerProtocol s2([](const auto&) { return RtmpServerProtocol::Decision{true, {}, {}}; }, [](Message&) {});
    rtmp::RtmpSendQueue q;
    ASSERT_TRUE(s2.feed(handshake(), q));
    Encoder e;
    e.media(9, 0, Bytes(10, 0x17));
    EXPECT_FALSE(s2.feed(e.bytes(), q));
    EXPECT_EQ(s2.error(), "media before an accepted publish");
  }
  {
    RtmpServerProtocol s3([](const auto&) { return RtmpServerProtocol::Decision{true, {}, {}}; }, [](Message&) {});
    rtmp::RtmpSendQueue q;
    ASSERT_TRUE(s3.feed(handshake(), q));
    Encoder e;
    e.command(Bytes(RtmpServerProtocol::kStrangerMessageLimit + 1, 0));  // announced in its first chunk header
    const Bytes b = e.bytes();
    EXPECT_FALSE(s3.feed({b.data(), 200}, q));
    EXPECT_NE(s3.error().find("exceeds the limit of 65536"), std::string::npos) << s3.error();
  }
}

}  // namespace
}  // namespace venuecast::ingest
