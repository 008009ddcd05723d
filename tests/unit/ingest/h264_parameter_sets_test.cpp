// SPS/PPS laid out as a packet carries its NAL units, from either form of extradata.
#include "ingest/h264_parameter_sets.h"

#include <gtest/gtest.h>

namespace venuecast::ingest {
namespace {

using Bytes = std::vector<uint8_t>;
const Bytes kSps = {0x67, 0x64, 0x00, 0x1f, 0xac};
const Bytes kPps = {0x68, 0xee, 0x3c, 0x80};

Bytes avcc() {  // avcC record: 4-byte NAL lengths, one SPS, one PPS
  Bytes b = {1, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0, static_cast<uint8_t>(kSps.size())};
  b.insert(b.end(), kSps.begin(), kSps.end());
  b.insert(b.end(), {1, 0, static_cast<uint8_t>(kPps.size())});
  b.insert(b.end(), kPps.begin(), kPps.end());
  b.insert(b.end(), {0xfd, 0xf8, 0xf8, 0});  // High profile chroma/bit-depth extension, ignored
  return b;
}

Bytes annexB(bool trailingZero = false) {  // as x264 writes its global header (with an SEI, which is left out)
  Bytes b = {0, 0, 0, 1};
  b.insert(b.end(), kSps.begin(), kSps.end());
  if (trailingZero) b.push_back(0);
  b.insert(b.end(), {0, 0, 1});
  b.insert(b.end(), kPps.begin(), kPps.end());
  b.insert(b.end(), {0, 0, 1, 0x06, 0x05, 0x01, 0x80});
  return b;
}

Bytes lengthPrefixed() {
  Bytes b = {0, 0, 0, static_cast<uint8_t>(kSps.size())};
  b.insert(b.end(), kSps.begin(), kSps.end());
  b.insert(b.end(), {0, 0, 0, static_cast<uint8_t>(kPps.size())});
  b.insert(b.end(), kPps.begin(), kPps.end());
  return b;
}

Bytes startCoded() {
  Bytes b = {0, 0, 0, 1};
  b.insert(b.end(), kSps.begin(), kSps.end());
  b.insert(b.end(), {0, 0, 0, 1});
  b.insert(b.end(), kPps.begin(), kPps.end());
  return b;
}

TEST(H264ParameterSets, FromAnAvccRecordInEitherLayout) {
  EXPECT_EQ(h264ParameterSets(avcc(), false), lengthPrefixed());
  EXPECT_EQ(h264ParameterSets(avcc(), true), startCoded());
}

TEST(H264ParameterSets, FromAnnexBExtradataWithoutTheSeiOrTrailingZeros) {
  EXPECT_EQ(h264ParameterSets(annexB(), true), startCoded());
  EXPECT_EQ(h264ParameterSets(annexB(true), false), lengthPrefixed());
}

TEST(H264ParameterSets, NothingFromGarbage) {
  EXPECT_TRUE(h264ParameterSets(Bytes{1, 2}, true).empty());
  EXPECT_TRUE(h264ParameterSets(Bytes{1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 40, 0x67}, false).empty()) << "truncated SPS";
}

TEST(H264ParameterSets, TellsAnnexBPayloadsFromAvccOnes) {
  EXPECT_TRUE(h264PayloadIsAnnexB(startCoded()));
  EXPECT_FALSE(h264PayloadIsAnnexB(lengthPrefixed()));
  Bytes nal300(4 + 300, 0x41);  // a 300-byte NAL unit: its length reads 00 00 01 2c, like a start code
  nal300[0] = 0;
  nal300[1] = 0;
  nal300[2] = 1;
  nal300[3] = 0x2c;
  EXPECT_FALSE(h264PayloadIsAnnexB(nal300));
}

}  // namespace
}  // namespace venuecast::ingest
