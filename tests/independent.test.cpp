// The tests' own checksums (independent.hpp) against published known
// answers, so that a test comparing the stores with them compares with
// SHA-256 and CRC-32 themselves.
#include <gtest/gtest.h>
#include <string>
#include "independent.hpp"

TEST(Independent, Sha256MatchesFips180Vectors) {
  EXPECT_EQ(independent::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(independent::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(independent::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(independent::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Independent, Crc32MatchesTheCheckValue) {
  EXPECT_EQ(independent::crc32("123456789"), 0xcbf43926u);  // the catalogue's check value for CRC-32/ISO-HDLC
  EXPECT_EQ(independent::crc32(""), 0u);
  EXPECT_EQ(independent::crc32("The quick brown fox jumps over the lazy dog"), 0x414fa339u);
}
