// RtmpPlayProtocol: the commands a player sends, in rtmpproto's order, and how it reads the server's answers.
#include "ingest/rtmp_play_protocol.h"

#include <gtest/gtest.h>

namespace venuecast::ingest {
namespace {

using Value = rtmp::RtmpAmf0::Value;
using Event = RtmpPlayProtocol::Event;
using Message = rtmp::RtmpChunkReader::Message;

// What the client queued, as the server parses it.
std::vector<Message> take(rtmp::RtmpSendQueue& q, rtmp::RtmpChunkReader& reader) {
  std::vector<Message> out;
  while (q.hasQueued()) {
    q.startBatch(1 << 20);
    for (const auto& b : q.pending(1 << 20)) {
      EXPECT_TRUE(reader.feed({static_cast<const uint8_t*>(b.data()), b.size()}, out)) << reader.error();
    }
    q.finishBatch();
  }
  return out;
}

std::vector<Value> amf(const Message& m) {
  std::vector<Value> v;
  std::string error;
  EXPECT_TRUE(rtmp::RtmpAmf0::decodeAll(m.payload, v, error)) << error;
  return v;
}

Message command(std::vector<Value> values, uint32_t msid = 0) {
  Message m{3, 0, 20, msid, {}};
  for (const auto& v : values) rtmp::RtmpAmf0::encode(v, m.payload);
  return m;
}

Value status(const char* level, const char* code) {
  return Value::makeObject({{"level", Value::makeString(level)}, {"code", Value::makeString(code)},
                            {"description", Value::makeString("why")}});
}

class RtmpPlayProtocolTest : public ::testing::Test {
 protected:
  RtmpPlayProtocol protocol{{"127.0.0.1", 1935, "venue", "rtmp://127.0.0.1:1935/venue", "chengdu?token=t0k3n"}};
  rtmp::RtmpSendQueue queue;
  rtmp::RtmpChunkReader reader;

  // connect -> _result, createStream -> _result(1): play is queued.
  std::vector<Message> runToPlay() {
    protocol.start(queue);
    auto sent = take(queue, reader);
    EXPECT_EQ(sent.size(), 1u);
    EXPECT_EQ(protocol.onMessage(command({Value::makeString("_result"), Value::makeNumber(1), Value::makeNull(),
                                          status("status", "NetConnection.Connect.Success")}),
                                 queue)
                  .event,
              Event::None);
    sent = take(queue, reader);
    // Window Acknowledgement Size, createStream, FCSubscribe(name)
    EXPECT_EQ(sent.size(), 3u);
    const double createTxn = amf(sent.at(1)).at(1).number;
    EXPECT_EQ(protocol.onMessage(command({Value::makeString("_result"), Value::makeNumber(createTxn), Value::makeNull(),
                                          Value::makeNumber(1)}),
                                 queue)
                  .event,
              Event::None);
    return take(queue, reader);
  }
};

TEST_F(RtmpPlayProtocolTest, ConnectCreateStreamAndPlayAsRtmpprotoSendsThem) {
  protocol.start(queue);
  const auto connect = take(queue, reader);
  ASSERT_EQ(connect.size(), 1u);
  const auto c = amf(connect[0]);
  ASSERT_GE(c.size(), 3u);
  EXPECT_EQ(c[0].string, "connect");
  EXPECT_EQ(c[2].stringProperty("app"), "venue");
  EXPECT_EQ(c[2].stringProperty("tcUrl"), "rtmp://127.0.0.1:1935/venue");
  ASSERT_TRUE(c[2].find("videoCodecs"));
  EXPECT_EQ(c[2].find("videoCodecs")->number, 252);

  rtmp::RtmpSendQueue fresh;
  RtmpPlayProtocol again{protocol.target()};
  protocol = std::move(again);
  reader = rtmp::RtmpChunkReader();
  const auto play = runToPlay();
  ASSERT_EQ(play.size(), 2u);
  const auto p = amf(play[0]);
  EXPECT_EQ(p[0].string, "play");
  EXPECT_EQ(p[3].string, "chengdu?token=t0k3n") << "the stream name goes verbatim";
  EXPECT_EQ(p[4].number, -1000) << "live only";
  EXPECT_EQ(play[0].streamId, 1u);
  EXPECT_EQ(play[1].type, rtmp::RtmpMessages::kUserControl);
  EXPECT_EQ(play[1].payload, (std::vector<uint8_t>{0, 3, 0, 0, 0, 1, 0, 0, 0x0b, 0xb8})) << "Set Buffer Length 3000 ms";
  EXPECT_EQ(protocol.streamId(), 1u);
}

TEST_F(RtmpPlayProtocolTest, StatusErrorsFailUnpublishEndsAndFcSubscribeErrorsAreIgnored) {
  runToPlay();
  EXPECT_EQ(protocol.onMessage(command({Value::makeString("_error"), Value::makeNumber(3), Value::makeNull(),
                                        status("error", "NetStream.Failed")}),
                               queue)
                .event,
            Event::None)
      << "transaction 3 is FCSubscribe";
  EXPECT_EQ(protocol.onMessage(command({Value::makeString("onStatus"), Value::makeNumber(0), Value::makeNull(),
                                        status("status", "NetStream.Play.Start")}, 1),
                               queue)
                .event,
            Event::None);
  EXPECT_EQ(protocol.phase(), "playing");
  const auto ended = protocol.onMessage(command({Value::makeString("onStatus"), Value::makeNumber(0), Value::makeNull(),
                                                 status("status", "NetStream.Play.UnpublishNotify")}, 1),
                                        queue);
  EXPECT_EQ(ended.event, Event::Ended);

  RtmpPlayProtocol other{protocol.target()};
  other.start(queue);
  const auto failed = other.onMessage(command({Value::makeString("onStatus"), Value::makeNumber(0), Value::makeNull(),
                                               status("error", "NetStream.Play.StreamNotFound")}),
                                      queue);
  EXPECT_EQ(failed.event, Event::Failed);
  EXPECT_EQ(failed.error, "NetStream.Play.StreamNotFound: why");
}

TEST_F(RtmpPlayProtocolTest, AnswersPingsAndAcknowledgesEachWindow) {
  runToPlay();
  Message window{2, 0, rtmp::RtmpMessages::kWindowAckSize, 0, {0, 0, 0x10, 0}};  // 4096 bytes
  protocol.onMessage(window, queue);
  protocol.onBytesReceived(4000, queue);
  EXPECT_TRUE(take(queue, reader).empty());
  protocol.onBytesReceived(200, queue);
  auto acks = take(queue, reader);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].type, rtmp::RtmpMessages::kAcknowledgement);
  EXPECT_EQ(acks[0].payload, (std::vector<uint8_t>{0, 0, 0x10, 0x68}));
  Message ping{2, 0, rtmp::RtmpMessages::kUserControl, 0, {0, 6, 1, 2, 3, 4}};
  protocol.onMessage(ping, queue);
  auto pong = take(queue, reader);
  ASSERT_EQ(pong.size(), 1u);
  EXPECT_EQ(pong[0].payload, (std::vector<uint8_t>{0, 7, 1, 2, 3, 4}));
}

}  // namespace
}  // namespace venuecast::ingest
