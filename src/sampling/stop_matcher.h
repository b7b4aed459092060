// Stop strings matched across token boundaries. Text that could be the start of a stop string
// is held back until it either completes the stop string (then it and everything after is
// dropped) or cannot anymore (then it is released).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nibble::sampling {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops = {});
  // Feed text; returns what may be emitted now. Sets stopped() when a stop string completed.
  std::string push(std::string_view text);
  // Whatever is held back (call at the end when no stop string completed).
  std::string flush();
  bool stopped() const { return stopped_; }
  void reset();

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace nibble::sampling
