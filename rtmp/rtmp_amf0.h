#pragma once
// AMF0, the encoding of RTMP commands and of onMetaData: the few types a publisher sends, and a decoder for what
// servers answer (_result, _error, onStatus). The decoder takes bytes from the network, so it never reads past
// its input, bounds nesting, and reports malformed data as an error instead of guessing.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace venuecast::rtmp {

class RtmpAmf0 {
 public:
  enum class Type : uint8_t {
    Number = 0x00,
    Boolean = 0x01,
    String = 0x02,       // also LongString (0x0C) when decoded
    Object = 0x03,
    Null = 0x05,
    Undefined = 0x06,
    EcmaArray = 0x08,    // onMetaData's "mixed array"
    StrictArray = 0x0A,  // decoded only
    Date = 0x0B,         // decoded only: number = ms since epoch
  };

  struct Property;
  struct Value {
    Type type = Type::Null;
    double number = 0;
    bool boolean = false;
    std::string string;
    std::vector<Property> properties;  // Object / EcmaArray, in wire order
    std::vector<Value> elements;       // StrictArray

    static Value makeNumber(double n);
    static Value makeBoolean(bool b);
    static Value makeString(std::string s);
    static Value makeNull();
    static Value makeObject(std::vector<Property> properties);
    static Value makeEcmaArray(std::vector<Property> properties);

    // First property named `key` of an Object / EcmaArray, else nullptr.
    const Value* find(std::string_view key) const;
    // The string property `key`, or "" if absent / not a string.
    std::string stringProperty(std::string_view key) const;
  };
  struct Property {
    std::string key;
    Value value;
  };

  static constexpr int kMaxDepth = 16;  // objects in objects: far beyond what any RTMP server sends

  static void encode(const Value& value, std::vector<uint8_t>& out);
  static void encodeNumber(double n, std::vector<uint8_t>& out);
  static void encodeBoolean(bool b, std::vector<uint8_t>& out);
  static void encodeString(std::string_view s, std::vector<uint8_t>& out);  // LongString past 65535 bytes
  static void encodeNull(std::vector<uint8_t>& out);

  // Decodes one value at in[offset], advancing offset. False (with `error`) on truncated or malformed input.
  static bool decode(std::span<const uint8_t> in, std::size_t& offset, Value& out, std::string& error);
  // Decodes values until the input ends exactly (an RTMP command message is a sequence of values).
  static bool decodeAll(std::span<const uint8_t> in, std::vector<Value>& out, std::string& error);
};

}  // namespace venuecast::rtmp
