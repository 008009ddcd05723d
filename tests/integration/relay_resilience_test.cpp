#include <gtest/gtest.h>
TEST(RelayIndependence, Placeholder) {}
