#include "relay/rtmp_publish_protocol.h"

#include <gtest/gtest.h>

namespace venuecast::relay {
namespace {

using Bytes = std::vector<uint8_t>;
using Value = rtmp::RtmpAmf0::Value;
using Event = RtmpPublishProtocol::Event;

// The client side as the server sees it: queued items serialised and parsed back into messages.
class Wire {
 public:
  std::vector<rtmp::RtmpChunkReader::Message> take(rtmp::RtmpSendQueue& q) {
    std::vector<rtmp::RtmpChunkReader::Message> out;
    while (q.hasQueued()) {
      q.startBatch(1 << 20);
      for (const auto& b : q.pending(1 << 20)) {
        auto p = static_cast<const uint8_t*>(b.data());
        EXPECT_TRUE(reader_.feed({p, b.size()}, out)) << reader_.error();
      }
      q.finishBatch();
    }
    return out;
  }
  static std::vector<Value> amf(const rtmp::RtmpChunkReader::Message& m) {
    std::vector<Value> v;
    std::string error;
    EXPECT_TRUE(rtmp::RtmpAmf0::decodeAll(m.payload, v, error)) << error;
    return v;
  }

 private:
  rtmp::RtmpChunkReader reader_;
};

rtmp::RtmpChunkReader::Message command(std::vector<Value> values, uint8_t type = 20, uint32_t msid = 0) {
  rtmp::RtmpChunkReader::Message m{3, 0, type, msid, {}};
  for (const auto& v : values) rtmp::RtmpAmf0::encode(v, m.payload);
  return m;
}

Value status(const char* level, const char* code, const char* description) {
  return Value::makeObject({{"level", Value::makeString(level)},
                            {"code", Value::makeString(code)},
                            {"description", Value::makeString(description)}});
}

class RtmpPublishProtocolTest : public ::testing::Test {
 protected:
  RtmpPublishProtocol protocol{{"127.0.0.1", 1935, "live-bvc", "rtmp://127.0.0.1:1935/live-bvc",
                                "?streamname=live_1_2&key=abc&schedule=rtmp&pflag=1"},
                               65536,
                               "FMLE/3.0 (compatible; FMSc/1.0)"};
  rtmp::RtmpSendQueue queue;
  Wire wire;

  // connect -> _result, createStream -> _result(1): the publish command is queued.
  void runToPublish() {
    protocol.start(queue);
    wire.take(queue);
    protocol.onMessage(command({Value::makeString("_result"), Value::makeNumber(1), Value::makeNull(),
                                status("status", "NetConnection.Connect.Success", "ok")}),
                       queue);
    wire.take(queue);
    protocol.onMessage(command({Value::makeString("_result"), Value::makeNumber(4), Value::makeNull(),
                                Value::makeNumber(1)}),
                       queue);
  }
};

TEST_F(RtmpPublishProtocolTest, StartsWithChunkSizeAndConnectLikeFfmpeg) {
  protocol.start(queue);
  const auto m = wire.take(queue);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].type, 1);
  EXPECT_EQ(m[0].payload, (Bytes{0, 1, 0, 0}));
  const auto v = Wire::amf(m[1]);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].string, "connect");
  EXPECT_EQ(v[1].number, 1);
  ASSERT_EQ(v[2].properties.size(), 4u);
  EXPECT_EQ(v[2].properties[0].key, "app");
  EXPECT_EQ(v[2].stringProperty("app"), "live-bvc");
  EXPECT_EQ(v[2].stringProperty("type"), "nonprivate");
  EXPECT_EQ(v[2].stringProperty("flashVer"), "FMLE/3.0 (compatible; FMSc/1.0)");
  EXPECT_EQ(v[2].stringProperty("tcUrl"), "rtmp://127.0.0.1:1935/live-bvc");
}

TEST_F(RtmpPublishProtocolTest, FollowsTheObsCommandSequenceToPublish) {
  protocol.start(queue);
  wire.take(queue);
  auto r = protocol.onMessage(command({Value::makeString("_result"), Value::makeNumber(1), Value::makeNull(),
                                       status("status", "NetConnection.Connect.Success", "ok")}),
                              queue);
  EXPECT_EQ(r.event, Event::None);
  auto m = wire.take(queue);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(Wire::amf(m[0])[0].string, "releaseStream");
  EXPECT_EQ(Wire::amf(m[0])[3].string, "?streamname=live_1_2&key=abc&schedule=rtmp&pflag=1");
  EXPECT_EQ(Wire::amf(m[1])[0].string, "FCPublish");
  EXPECT_EQ(Wire::amf(m[2])[0].string, "createStream");
  EXPECT_EQ(Wire::amf(m[2])[1].number, 4);

  // FCPublish refused: historical, ignored like FFmpeg does.
  r = protocol.onMessage(command({Value::makeString("_error"), Value::makeNumber(3), Value::makeNull(),
                                  status("error", "NetConnection.Call.Failed", "no")}),
                         queue);
  EXPECT_EQ(r.event, Event::None);
  protocol.onMessage(command({Value::makeString("_result"), Value::makeNumber(4), Value::makeNull(), Value::makeNumber(7)}),
                     queue);
  m = wire.take(queue);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].streamId, 7u);
  const auto publish = Wire::amf(m[0]);
  EXPECT_EQ(publish[0].string, "publish");
  EXPECT_EQ(publish[2].type, rtmp::RtmpAmf0::Type::Null);
  EXPECT_EQ(publish[3].string, "?streamname=live_1_2&key=abc&schedule=rtmp&pflag=1");
  EXPECT_EQ(publish[4].string, "live");
  EXPECT_EQ(protocol.streamId(), 7u);

  r = protocol.onMessage(command({Value::makeString("onStatus"), Value::makeNumber(0), Value::makeNull(),
                                  status("status", "NetStream.Publish.Start", "Start publishing")},
                                 20, 7),
                         queue);
  EXPECT_EQ(r.event, Event::Published);
  EXPECT_TRUE(protocol.published());
  EXPECT_EQ(protocol.media(rtmp::RtmpMediaMessage::owning(9, 0, {1})).streamId, 7u);
}

TEST_F(RtmpPublishProtocolTest, OnStatusErrorFailsWithCodeAndDescription) {
  runToPublish();
  const auto r = protocol.onMessage(command({Value::makeString("onStatus"), Value::makeNumber(0), Value::makeNull(),
                                             status("error", "NetStream.Publish.BadName", "Already publishing")}),
                                    queue);
  EXPECT_EQ(r.event, Event::Failed);
  EXPECT_EQ(r.error, "NetStream.Publish.BadName: Already publishing");
}

TEST_F(RtmpPublishProtocolTest, ConnectErrorNamesTheCall) {
  protocol.start(queue);
  const auto r = protocol.onMessage(command({Value::makeString("_error"), Value::makeNumber(1), Value::makeNull(),
                                             status("error", "NetConnection.Connect.Rejected", "no such app")}),
                                    queue);
  EXPECT_EQ(r.event, Event::Failed);
  EXPECT_EQ(r.error, "connect refused: NetConnection.Connect.Rejected: no such app");
}

TEST_F(RtmpPublishProtocolTest, AnswersPingsAndAcknowledgesWindows) {
  protocol.start(queue);
  wire.take(queue);
  protocol.onMessage({2, 0, 4, 0, {0, 6, 0, 0, 0x12, 0x34}}, queue);  // ping request
  protocol.onMessage({2, 0, 5, 0, {0, 0, 0x03, 0xE8}}, queue);        // window 1000
  protocol.onBytesReceived(999, queue);
  auto m = wire.take(queue);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].payload, (Bytes{0, 7, 0, 0, 0x12, 0x34}));
  protocol.onBytesReceived(1, queue);
  m = wire.take(queue);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].type, 3);
  EXPECT_EQ(m[0].payload, (Bytes{0, 0, 0x03, 0xE8}));
}

TEST_F(RtmpPublishProtocolTest, UnpublishSendsFcUnpublishThenDeleteStream) {
  runToPublish();
  wire.take(queue);
  protocol.queueUnpublish(queue);
  const auto m = wire.take(queue);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(Wire::amf(m[0])[0].string, "FCUnpublish");
  const auto del = Wire::amf(m[1]);
  EXPECT_EQ(del[0].string, "deleteStream");
  EXPECT_EQ(del[3].number, 1);
}

TEST_F(RtmpPublishProtocolTest, MalformedCommandFailsButMalformedDataIsIgnored) {
  protocol.start(queue);
  EXPECT_EQ(protocol.onMessage({3, 0, 18, 1, {0x02, 0x00}}, queue).event, Event::None);
  EXPECT_EQ(protocol.onMessage({3, 0, 20, 0, {0x02, 0x00}}, queue).event, Event::Failed);
}

}  // namespace
}  // namespace venuecast::relay
