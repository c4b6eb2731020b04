// Tests for src/gptbook/data/sha256.cpp against the FIPS 180-2 examples and padding boundaries.
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/sha256.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;

TEST_CASE("sha256 reproduces the FIPS 180-2 test vectors", "[ch08][sha256]") {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256 pads messages correctly around the 56- and 64-byte block boundaries", "[ch08][sha256]") {
    // Expected values from Python's hashlib.sha256(b"a" * n).hexdigest().
    CHECK(sha256_hex(std::string(55, 'a')) == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    CHECK(sha256_hex(std::string(56, 'a')) == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    CHECK(sha256_hex(std::string(63, 'a')) == "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
    CHECK(sha256_hex(std::string(64, 'a')) == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    CHECK(sha256_hex(std::string(119, 'a')) == "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb");
    CHECK(sha256_hex(std::string(120, 'a')) == "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c");
}

TEST_CASE("sha256 gives the same digest however the message is split into updates", "[ch08][sha256]") {
    std::string message;
    for (int i = 0; i < 200; ++i) message.push_back(static_cast<char>(i * 37 % 256));
    const std::string whole = sha256_hex(message);
    for (std::size_t cut = 0; cut <= message.size(); ++cut) {
        Sha256 sha;
        sha.update(std::string_view(message).substr(0, cut));
        sha.update(std::string_view(message).substr(cut));
        REQUIRE(sha.hex_digest() == whole);
    }
}

TEST_CASE("sha256 of a file equals sha256 of its bytes", "[ch08][sha256]") {
    test::TempDir dir;
    std::string bytes(200000, 'x'); // several read chunks of 64 KiB
    bytes[12345] = '\n';
    write_file_atomic(dir.file("f.bin"), bytes);
    CHECK(sha256_file_hex(dir.file("f.bin")) == sha256_hex(bytes));
    CHECK_THROWS_AS(sha256_file_hex(dir.file("missing.bin")), gptbook::Error);
}
