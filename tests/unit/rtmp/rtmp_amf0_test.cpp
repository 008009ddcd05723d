#include "rtmp/rtmp_amf0.h"

#include <gtest/gtest.h>

#include <random>

namespace venuecast::rtmp {
namespace {

using Value = RtmpAmf0::Value;
using Bytes = std::vector<uint8_t>;

Bytes encode(const Value& v) {
  Bytes out;
  RtmpAmf0::encode(v, out);
  return out;
}

Value decodeOne(const Bytes& in) {
  std::size_t offset = 0;
  Value v;
  std::string error;
  EXPECT_TRUE(RtmpAmf0::decode(in, offset, v, error)) << error;
  EXPECT_EQ(offset, in.size());
  return v;
}

TEST(RtmpAmf0, EncodesScalarsExactly) {
  EXPECT_EQ(encode(Value::makeNumber(1.0)), (Bytes{0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(encode(Value::makeBoolean(true)), (Bytes{0x01, 0x01}));
  EXPECT_EQ(encode(Value::makeString("ab")), (Bytes{0x02, 0x00, 0x02, 'a', 'b'}));
  EXPECT_EQ(encode(Value::makeNull()), (Bytes{0x05}));
  EXPECT_EQ(encode(Value::makeObject({{"a", Value::makeNull()}})),
            (Bytes{0x03, 0x00, 0x01, 'a', 0x05, 0x00, 0x00, 0x09}));
  EXPECT_EQ(encode(Value::makeEcmaArray({{"w", Value::makeBoolean(false)}})),
            (Bytes{0x08, 0, 0, 0, 1, 0x00, 0x01, 'w', 0x01, 0x00, 0x00, 0x00, 0x09}));
}

TEST(RtmpAmf0, RoundTripsNestedValuesInOrder) {
  Value v = Value::makeObject({
      {"zeta", Value::makeNumber(-2.5)},
      {"alpha", Value::makeString("x")},
      {"inner", Value::makeEcmaArray({{"ok", Value::makeBoolean(true)}, {"n", Value::makeNull()}})},
  });
  const Value d = decodeOne(encode(v));
  ASSERT_EQ(d.type, RtmpAmf0::Type::Object);
  ASSERT_EQ(d.properties.size(), 3u);
  EXPECT_EQ(d.properties[0].key, "zeta");
  EXPECT_EQ(d.properties[0].value.number, -2.5);
  EXPECT_EQ(d.stringProperty("alpha"), "x");
  const Value* inner = d.find("inner");
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(inner->type, RtmpAmf0::Type::EcmaArray);
  EXPECT_TRUE(inner->find("ok")->boolean);
  EXPECT_EQ(inner->find("n")->type, RtmpAmf0::Type::Null);
}

TEST(RtmpAmf0, LongStringsUseTheLongStringMarker) {
  const std::string big(70000, 'k');
  const Bytes b = encode(Value::makeString(big));
  EXPECT_EQ(b[0], 0x0C);
  EXPECT_EQ(b.size(), 1 + 4 + big.size());
  EXPECT_EQ(decodeOne(b).string, big);
}

TEST(RtmpAmf0, DecodesAnNginxOnStatus) {
  Bytes in;
  RtmpAmf0::encodeString("onStatus", in);
  RtmpAmf0::encodeNumber(0, in);
  RtmpAmf0::encodeNull(in);
  RtmpAmf0::encode(Value::makeObject({{"level", Value::makeString("error")},
                                      {"code", Value::makeString("NetStream.Publish.BadName")},
                                      {"description", Value::makeString("Already publishing")}}),
                   in);
  std::vector<Value> values;
  std::string error;
  ASSERT_TRUE(RtmpAmf0::decodeAll(in, values, error)) << error;
  ASSERT_EQ(values.size(), 4u);
  EXPECT_EQ(values[0].string, "onStatus");
  EXPECT_EQ(values[3].stringProperty("description"), "Already publishing");
}

TEST(RtmpAmf0, DecodesTypesServersSendButWeDoNot) {
  // undefined, strict array [1, "a"], date
  const Bytes in = {0x06, 0x0A, 0, 0, 0, 2, 0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0, 0x02, 0, 1, 'a',
                    0x0B, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  std::vector<Value> values;
  std::string error;
  ASSERT_TRUE(RtmpAmf0::decodeAll(in, values, error)) << error;
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0].type, RtmpAmf0::Type::Undefined);
  ASSERT_EQ(values[1].elements.size(), 2u);
  EXPECT_EQ(values[1].elements[1].string, "a");
  EXPECT_EQ(values[2].type, RtmpAmf0::Type::Date);
  EXPECT_EQ(values[2].number, 2.0);
}

// Every proper prefix of a valid encoding is truncated input: always an error, never a read past the end
// (the sanitizer build checks the latter).
TEST(RtmpAmf0, EveryTruncationIsAnError) {
  const Bytes full = encode(Value::makeObject({{"code", Value::makeString("NetStream.Publish.Start")},
                                               {"n", Value::makeNumber(3)},
                                               {"arr", Value::makeEcmaArray({{"b", Value::makeBoolean(true)}})}}));
  for (std::size_t len = 0; len < full.size(); ++len) {
    Bytes part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
    part.shrink_to_fit();
    std::size_t offset = 0;
    Value v;
    std::string error;
    EXPECT_FALSE(RtmpAmf0::decode(part, offset, v, error)) << "length " << len;
    EXPECT_FALSE(error.empty());
  }
}

TEST(RtmpAmf0, RejectsMalformedInput) {
  auto fails = [](const Bytes& in, const std::string& expected) {
    std::vector<Value> values;
    std::string error;
    EXPECT_FALSE(RtmpAmf0::decodeAll(in, values, error));
    EXPECT_NE(error.find(expected), std::string::npos) << error;
  };
  fails({0x03, 0x00, 0x00, 0x05}, "without object end marker");        // empty key, then a value
  fails({0x09}, "object end marker outside an object");
  fails({0x11}, "unsupported type marker 17");                          // AMF3 switch
  fails({0x02, 0xFF, 0xFF, 'a'}, "truncated string");                    // length beyond the input
  fails({0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x05}, "truncated");             // huge strict array count
  fails({0x08, 0, 0, 0, 1, 0x00, 0x01, 'a', 0x05}, "truncated property name");  // no end marker at all
  Bytes deep;
  for (int i = 0; i < 40; ++i) deep.insert(deep.end(), {0x03, 0x00, 0x01, 'x'});
  fails(deep, "nesting deeper than");
}

TEST(RtmpAmf0, RandomBytesNeverCrash) {
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    Bytes in(rng() % 64);
    for (auto& b : in) b = static_cast<uint8_t>(rng() % 16);  // mostly valid markers: deeper paths
    std::vector<Value> values;
    std::string error;
    RtmpAmf0::decodeAll(in, values, error);
  }
  SUCCEED();
}

}  // namespace
}  // namespace venuecast::rtmp
