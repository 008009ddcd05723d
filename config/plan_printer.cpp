#include "config/plan_printer.h"

#include <algorithm>
#include <sstream>

#include "config/push_target.h"
#include "config/redaction.h"
#include "config/rtmp_url.h"

namespace venuecast::config {

namespace {

std::string plural(std::size_t n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

std::string redactedTarget(const OutputConfig& output) {
  try {
    return makePushTarget(output.url, output.key).redacted;
  } catch (const std::exception&) {
    return redactUrl(output.url);  // an unvalidated Config; still never show the key
  }
}

void printOutput(std::ostream& out, const OutputConfig& output, std::size_t idWidth) {
  out << "  -> " << output.id << std::string(idWidth - output.id.size() + 2, ' ') << redactedTarget(output) << "\n";
  const auto url = parseRtmpUrl(output.url);
  if (!url || url->scheme != "rtmps") return;
  out << "     tls: ";
  if (!output.tlsVerify) {
    out << "certificate NOT verified\n";
  } else if (output.caFile.empty()) {
    out << "verify certificate (system CA store)\n";
  } else {
    out << "verify certificate (CA file " << output.caFile << ")\n";
  }
}

}  // namespace

std::string describePlan(const Config& config) {
  std::size_t idWidth = 0;
  for (const auto& output : config.outputs) idWidth = std::max(idWidth, output.id.size());

  std::ostringstream out;
  out << (config.file.empty() ? std::string("config") : config.file) << ": " << plural(config.venues.size(), "venue")
      << ", " << plural(config.outputs.size(), "output") << "\n";
  for (const auto& venue : config.venues) {
    out << "\nvenue " << venue.id;
    if (!venue.name.empty() && venue.name != venue.id) out << " \"" << venue.name << "\"";
    if (venue.push()) {
      out << "\n  published to rtmp://" << config.server.rtmpListen << "/venue with stream key " << venue.id
          << "?key=****\n";
    } else {
      out << "\n  from " << redactUrl(venue.url) << "\n";
    }
    if (venue.backup.present()) {
      out << "  backup " << (venue.backup.pushKey.empty() ? "from " + redactUrl(venue.backup.url)
                                                          : "published with stream key " + venue.id + "?key=****")
          << " (after " << venue.failoverAfterS << " s without the primary; back after " << venue.failbackAfterS
          << " s of it)\n";
    }
    if (!venue.standby) {
      out << "  no standby slate (outputs pause while nothing is live)\n";
    } else {
      out << "  standby slate " << (venue.slateFile.empty() ? std::string("(rendered card)") : venue.slateFile)
          << " after " << venue.failoverAfterS << " s with nothing live\n";
    }
    bool any = false;
    for (const auto& output : config.outputs) {
      if (output.venue != venue.id) continue;
      printOutput(out, output, idWidth);
      any = true;
    }
    if (!any) out << "  (no outputs)\n";
  }

  bool headed = false;
  for (const auto& output : config.outputs) {
    const bool known =
        std::any_of(config.venues.begin(), config.venues.end(), [&](const auto& v) { return v.id == output.venue; });
    if (known) continue;
    if (!headed) out << "\noutputs with an unknown venue\n";
    headed = true;
    printOutput(out, output, idWidth);
  }
  return out.str();
}

}  // namespace venuecast::config
