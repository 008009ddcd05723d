#pragma once
// The calls a client has made and not yet seen answered, so a _result or _error can be read as the answer to
// connect, createStream, ... (the server echoes only the transaction id).
#include <map>
#include <string>

#include "rtmp/rtmp_messages.h"

namespace venuecast::rtmp {

class RtmpTransactions {
 public:
  // The next transaction id, remembered as a call of `method`.
  double call(const char* method) {
    const double txn = next_++;
    pending_[txn] = method;
    return txn;
  }
  // For a _result or _error: the method it answers (forgotten from then on), "" if unknown; "" for others.
  std::string answered(const RtmpMessages::Command& c) {
    if (c.name != "_result" && c.name != "_error") return {};
    auto it = pending_.find(c.transaction);
    if (it == pending_.end()) return {};
    std::string method = std::move(it->second);
    pending_.erase(it);
    return method;
  }

 private:
  double next_ = 1;
  std::map<double, std::string> pending_;
};

}  // namespace venuecast::rtmp
