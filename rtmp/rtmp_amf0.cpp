#include "rtmp/rtmp_amf0.h"

#include <bit>
#include <cstring>

#include "rtmp/rtmp_bytes.h"

namespace venuecast::rtmp {
namespace {

constexpr uint8_t kObjectEnd = 0x09;
constexpr uint8_t kLongString = 0x0C;

// Property names and string values share this encoding (u16 length, bytes) but names carry no type marker.
void putShortString(std::vector<uint8_t>& out, std::string_view s) {
  RtmpBytes::appendBe16(out, static_cast<uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

void encodeProperties(const std::vector<RtmpAmf0::Property>& properties, std::vector<uint8_t>& out) {
  for (const auto& p : properties) {
    putShortString(out, p.key.size() > 0xFFFF ? std::string_view(p.key).substr(0, 0xFFFF) : p.key);
    RtmpAmf0::encode(p.value, out);
  }
  RtmpBytes::appendBe16(out, 0);
  out.push_back(kObjectEnd);
}

// Bounds-checked reading over the input; every read says whether the bytes were there.
class Cursor {
 public:
  Cursor(std::span<const uint8_t> in, std::size_t& offset, std::string& error)
      : in_(in), offset_(offset), error_(error) {}

  bool fail(const std::string& what) {
    error_ = "AMF0: " + what + " at byte " + std::to_string(offset_);
    return false;
  }
  bool need(std::size_t n, const char* what) {
    if (offset_ > in_.size() || in_.size() - offset_ < n) return fail(std::string("truncated ") + what);
    return true;
  }
  bool u8(uint8_t& v, const char* what) {
    if (!need(1, what)) return false;
    v = in_[offset_++];
    return true;
  }
  bool u16(uint32_t& v, const char* what) {
    if (!need(2, what)) return false;
    v = (uint32_t{in_[offset_]} << 8) | in_[offset_ + 1];
    offset_ += 2;
    return true;
  }
  bool u32(uint32_t& v, const char* what) {
    if (!need(4, what)) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | in_[offset_ + i];
    offset_ += 4;
    return true;
  }
  bool f64(double& v, const char* what) {
    if (!need(8, what)) return false;
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | in_[offset_ + i];
    offset_ += 8;
    v = std::bit_cast<double>(bits);
    return true;
  }
  bool bytes(std::size_t n, std::string& out, const char* what) {
    if (!need(n, what)) return false;
    out.assign(reinterpret_cast<const char*>(in_.data() + offset_), n);
    offset_ += n;
    return true;
  }
  // The 00 00 09 that closes an object / ECMA array. An empty name followed by anything else is malformed.
  bool atObjectEnd(bool& end) {
    end = false;
    if (!need(2, "property name")) return false;
    if (in_[offset_] != 0 || in_[offset_ + 1] != 0) return true;
    if (!need(3, "object end marker")) return false;
    if (in_[offset_ + 2] != kObjectEnd) return fail("empty property name without object end marker");
    offset_ += 3;
    end = true;
    return true;
  }
  bool value(RtmpAmf0::Value& out, int depth);
  bool properties(std::vector<RtmpAmf0::Property>& out, int depth);

 private:
  std::span<const uint8_t> in_;
  std::size_t& offset_;
  std::string& error_;
};

bool Cursor::properties(std::vector<RtmpAmf0::Property>& out, int depth) {
  for (;;) {
    bool end = false;
    if (!atObjectEnd(end)) return false;
    if (end) return true;
    RtmpAmf0::Property p;
    uint32_t len = 0;
    if (!u16(len, "property name") || !bytes(len, p.key, "property name")) return false;
    if (!value(p.value, depth + 1)) return false;
    out.push_back(std::move(p));
  }
}

bool Cursor::value(RtmpAmf0::Value& out, int depth) {
  using Type = RtmpAmf0::Type;
  if (depth > RtmpAmf0::kMaxDepth) return fail("nesting deeper than " + std::to_string(RtmpAmf0::kMaxDepth));
  uint8_t marker = 0;
  if (!u8(marker, "type marker")) return false;
  uint32_t len = 0;
  out = RtmpAmf0::Value{};
  switch (marker) {
    case 0x00:
      out.type = Type::Number;
      return f64(out.number, "number");
    case 0x01: {
      uint8_t b = 0;
      out.type = Type::Boolean;
      if (!u8(b, "boolean")) return false;
      out.boolean = b != 0;
      return true;
    }
    case 0x02:
      out.type = Type::String;
      return u16(len, "string length") && bytes(len, out.string, "string");
    case kLongString:
      out.type = Type::String;
      return u32(len, "long string length") && bytes(len, out.string, "long string");
    case 0x03:
      out.type = Type::Object;
      return properties(out.properties, depth);
    case 0x05:
      out.type = Type::Null;
      return true;
    case 0x06:
      out.type = Type::Undefined;
      return true;
    case 0x08:
      // The count is advisory (encoders get it wrong); the end marker is what ends the array.
      out.type = Type::EcmaArray;
      return u32(len, "ECMA array count") && properties(out.properties, depth);
    case 0x0A: {
      out.type = Type::StrictArray;
      if (!u32(len, "strict array count")) return false;
      for (uint32_t i = 0; i < len; ++i) {  // each element takes >= 1 byte: a huge count fails as truncated
        RtmpAmf0::Value element;
        if (!value(element, depth + 1)) return false;
        out.elements.push_back(std::move(element));
      }
      return true;
    }
    case 0x0B: {
      out.type = Type::Date;
      uint32_t timezone = 0;
      return f64(out.number, "date") && u16(timezone, "date time zone");
    }
    case kObjectEnd:
      --offset_;
      return fail("object end marker outside an object");
    default:
      --offset_;
      return fail("unsupported type marker " + std::to_string(marker));
  }
}

}  // namespace

RtmpAmf0::Value RtmpAmf0::Value::makeNumber(double n) {
  Value v;
  v.type = Type::Number;
  v.number = n;
  return v;
}

RtmpAmf0::Value RtmpAmf0::Value::makeBoolean(bool b) {
  Value v;
  v.type = Type::Boolean;
  v.boolean = b;
  return v;
}

RtmpAmf0::Value RtmpAmf0::Value::makeString(std::string s) {
  Value v;
  v.type = Type::String;
  v.string = std::move(s);
  return v;
}

RtmpAmf0::Value RtmpAmf0::Value::makeNull() { return Value{}; }

RtmpAmf0::Value RtmpAmf0::Value::makeObject(std::vector<Property> properties) {
  Value v;
  v.type = Type::Object;
  v.properties = std::move(properties);
  return v;
}

RtmpAmf0::Value RtmpAmf0::Value::makeEcmaArray(std::vector<Property> properties) {
  Value v;
  v.type = Type::EcmaArray;
  v.properties = std::move(properties);
  return v;
}

const RtmpAmf0::Value* RtmpAmf0::Value::find(std::string_view key) const {
  for (const auto& p : properties)
    if (p.key == key) return &p.value;
  return nullptr;
}

std::string RtmpAmf0::Value::stringProperty(std::string_view key) const {
  const Value* v = find(key);
  return v && v->type == Type::String ? v->string : std::string();
}

void RtmpAmf0::encodeNumber(double n, std::vector<uint8_t>& out) {
  out.push_back(static_cast<uint8_t>(Type::Number));
  const auto bits = std::bit_cast<uint64_t>(n);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(bits >> shift));
}

void RtmpAmf0::encodeBoolean(bool b, std::vector<uint8_t>& out) {
  out.push_back(static_cast<uint8_t>(Type::Boolean));
  out.push_back(b ? 1 : 0);
}

void RtmpAmf0::encodeString(std::string_view s, std::vector<uint8_t>& out) {
  if (s.size() > 0xFFFF) {
    out.push_back(kLongString);
    RtmpBytes::appendBe32(out, static_cast<uint32_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
    return;
  }
  out.push_back(static_cast<uint8_t>(Type::String));
  putShortString(out, s);
}

void RtmpAmf0::encodeNull(std::vector<uint8_t>& out) { out.push_back(static_cast<uint8_t>(Type::Null)); }

void RtmpAmf0::encode(const Value& value, std::vector<uint8_t>& out) {
  switch (value.type) {
    case Type::Number:
    case Type::Date:  // never sent; a number is the closest meaning
      encodeNumber(value.number, out);
      return;
    case Type::Boolean:
      encodeBoolean(value.boolean, out);
      return;
    case Type::String:
      encodeString(value.string, out);
      return;
    case Type::Object:
      out.push_back(static_cast<uint8_t>(Type::Object));
      encodeProperties(value.properties, out);
      return;
    case Type::EcmaArray:
      out.push_back(static_cast<uint8_t>(Type::EcmaArray));
      RtmpBytes::appendBe32(out, static_cast<uint32_t>(value.properties.size()));
      encodeProperties(value.properties, out);
      return;
    case Type::StrictArray:
      out.push_back(static_cast<uint8_t>(Type::StrictArray));
      RtmpBytes::appendBe32(out, static_cast<uint32_t>(value.elements.size()));
      for (const auto& e : value.elements) encode(e, out);
      return;
    case Type::Undefined:
      out.push_back(static_cast<uint8_t>(Type::Undefined));
      return;
    case Type::Null:
      encodeNull(out);
      return;
  }
}

bool RtmpAmf0::decode(std::span<const uint8_t> in, std::size_t& offset, Value& out, std::string& error) {
  Cursor cursor(in, offset, error);
  return cursor.value(out, 0);
}

bool RtmpAmf0::decodeAll(std::span<const uint8_t> in, std::vector<Value>& out, std::string& error) {
  std::size_t offset = 0;
  while (offset < in.size()) {
    Value v;
    if (!decode(in, offset, v, error)) return false;
    out.push_back(std::move(v));
  }
  return true;
}

}  // namespace venuecast::rtmp
