// Tests for src/gptbook/core/safetensors.cpp: round trips, the byte layout, numpy compatibility,
// and every way a file can be broken. Shapes are PyTorch (row-major) shapes.
#include "gptbook/core/safetensors.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/core/rng.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

using namespace gptbook;
using Catch::Matchers::Contains;
using json = nlohmann::json;

namespace {

const std::string SRC = "runs/x/model.safetensors";

/// A file from a header text and a data section, with no padding: what another writer may emit.
std::string make_file(const std::string& header, const std::string& data = "") {
    const uint64_t n = header.size();
    std::string out(reinterpret_cast<const char*>(&n), 8);
    return out.append(header).append(data);
}

/// The message parse() throws for `bytes`; fails the test if it accepts them.
std::string parse_error(const std::string& bytes) {
    try {
        SafeTensors::parse(bytes, SRC);
    } catch (const Error& e) {
        return e.what();
    }
    FAIL("parse accepted bytes it should have rejected");
    return {};
}

template <class T>
std::string raw(const std::vector<T>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

/// One of each dtype, a scalar, an empty tensor, and special float values.
SafeTensors sample_file() {
    SafeTensors st;
    const std::vector<float> w = {0.5f, -1.25f, 0.1f, std::numeric_limits<float>::infinity(), -0.0f, std::nanf("")};
    st.add_f32("w", {2, 3}, w.data());
    const std::vector<double> f64 = {1e-300, 3.141592653589793, -2.0, 1e300};
    st.add("f64", DType::F64, {4}, f64.data());
    const std::vector<int32_t> i32 = {-1, 2, INT32_MIN, INT32_MAX, 0, 7, 8, 9};
    st.add("i32", DType::I32, {2, 2, 2}, i32.data());
    const int64_t step = -1234567890123LL;
    st.add_i64("step", {}, &step);
    const std::vector<uint8_t> u8 = {0, 1, 127, 128, 255};
    st.add("u8", DType::U8, {5}, u8.data());
    const std::vector<int8_t> i8 = {-128, -1, 0, 1, 127, -7}; // chapter 14's quantized weights
    st.add("i8", DType::I8, {2, 3}, i8.data());
    const std::vector<uint64_t> u64 = {0, 1ULL << 63, UINT64_MAX};
    st.add("u64", DType::U64, {1, 3}, u64.data());
    st.add_f32("empty", {0, 4}, nullptr);
    st.metadata = {
        {"config", R"({"n_layer": 2, "n_embd": 64})"}, {"empty", ""}, {"unicode", "caf\xC3\xA9 \xE2\x82\xAC"}};
    return st;
}

} // namespace

TEST_CASE("a file of every dtype, a scalar and an empty tensor saves and loads unchanged",
          "[ch06][core][safetensors]") {
    test::TempDir dir;
    const std::string path = dir.file("run/model.safetensors");
    const SafeTensors written = sample_file();
    written.save(path);
    const SafeTensors read = SafeTensors::load(path);
    CHECK(read.source == path);
    REQUIRE(read.tensors.size() == written.tensors.size());
    for (const auto& [name, t] : written.tensors) {
        CAPTURE(name);
        const Tensor& r = read.at(name);
        CHECK(r.dtype == t.dtype);
        CHECK(r.shape == t.shape);
        CHECK(r.bytes == t.bytes); // bit for bit: NaN, -0.0 and inf included
    }
    CHECK(read.at("step").shape.empty());
    CHECK(read.at("step").numel() == 1);
    CHECK(read.at("empty").numel() == 0);
    CHECK(read.get_ints("step") == std::vector<int64_t>{-1234567890123LL});
    CHECK(read.get_ints("i32") == std::vector<int64_t>{-1, 2, INT32_MIN, INT32_MAX, 0, 7, 8, 9}); // sign-extended
    const std::vector<float> w = read.get_f32("w");
    REQUIRE(w.size() == 6);
    CHECK(w[2] == 0.1f);
    CHECK(std::isnan(w[5]));
    CHECK(read.get_f32("empty").empty());
    std::vector<float> out(6, 0.0f);
    read.copy_f32("w", {2, 3}, out.data());
    CHECK(out[1] == -1.25f);
}

TEST_CASE("metadata strings round trip, JSON text and UTF-8 included", "[ch06][core][safetensors]") {
    const SafeTensors written = sample_file();
    const SafeTensors read = SafeTensors::parse(written.serialize(), "memory");
    CHECK(read.metadata == written.metadata);
    CHECK(json::parse(read.meta("config"))["n_embd"] == 64);
    CHECK(read.meta("empty").empty());
    CHECK_THROWS_WITH(read.meta("tokenizer"),
                      Contains("memory") && Contains("tokenizer") && Contains("config, empty, unicode"));

    SafeTensors no_meta;
    const float x = 1.0f;
    no_meta.add_f32("x", {1}, &x);
    CHECK(no_meta.serialize().find("__metadata__") == std::string::npos); // omitted when empty
}

TEST_CASE("the byte layout is: u64 header length, padded JSON header, data in name order",
          "[ch06][core][safetensors]") {
    SafeTensors st;
    const std::vector<float> b = {1.0f, 2.0f};
    const std::vector<float> a = {3.0f, 4.0f, 5.0f};
    st.add_f32("b", {2}, b.data()); // added first, but "a" sorts first in the file
    st.add_f32("a", {3}, a.data());
    st.metadata["k"] = "v";
    const std::string bytes = st.serialize();

    REQUIRE(bytes.size() >= 8);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
    CHECK(n % 8 == 0);                   // the data section starts 8-byte aligned
    REQUIRE(8 + n + 20 == bytes.size()); // 20 = (3 + 2) floats
    const std::string header = bytes.substr(8, n);
    CHECK(header.front() == '{');
    const size_t last = header.find_last_not_of(' ');
    CHECK(header[last] == '}');
    CHECK(header.size() - 1 - last < 8); // only padding after the JSON, less than 8 spaces

    const json h = json::parse(header);
    CHECK(h["a"]["dtype"] == "F32");
    CHECK(h["a"]["shape"] == json::array({3}));
    CHECK(h["a"]["data_offsets"] == json::array({0, 12}));
    CHECK(h["b"]["data_offsets"] == json::array({12, 20}));
    CHECK(h["__metadata__"] == json{{"k", "v"}});
    CHECK(bytes.substr(8 + n) == raw(a) + raw(b));

    // What another writer emits (no padding, keys and data in another order) reads too.
    const std::string other = make_file(R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                        R"("a":{"data_offsets":[8,20],"shape":[3],"dtype":"F32"}})",
                                        raw(b) + raw(a));
    const SafeTensors st2 = SafeTensors::parse(other, "other");
    CHECK(st2.get_f32("a") == a);
    CHECK(st2.get_f32("b") == b);
    CHECK(SafeTensors::parse(make_file("{}"), "empty").tensors.empty());
}

TEST_CASE("python3 with json and numpy alone reads what gptbook writes", "[ch06][core][safetensors]") {
    if (!std::filesystem::exists("/usr/bin/python3") ||
        std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
        WARN("SKIPPED: /usr/bin/python3 with numpy is not installed (apt install python3-numpy)");
        SUCCEED("nothing checked without numpy");
        return;
    }
    test::TempDir dir;
    const std::string script = R"PY(import json, sys
import numpy as np
raw = open(sys.argv[1], 'rb').read()
n = int(np.frombuffer(raw[:8], dtype='<u8')[0])
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
types = {'F32': '<f4', 'F64': '<f8', 'I32': '<i4', 'I64': '<i8', 'I8': 'i1', 'U8': 'u1', 'U64': '<u8'}
for name in sorted(k for k in header if k != '__metadata__'):
    e = header[name]
    begin, end = e['data_offsets']
    a = np.frombuffer(data[begin:end], dtype=types[e['dtype']]).reshape(e['shape'])
    print(name, e['dtype'], list(a.shape), *[repr(v) for v in a.flatten().tolist()])
print('meta', header['__metadata__']['config'])
)PY";
    write_file_atomic(dir.file("read.py"), script);
    SafeTensors st;
    const std::vector<float> w = {0.5f, -1.25f, 0.1f, 3.0f, 1e-7f, -2.5f};
    st.add_f32("w", {2, 3}, w.data());
    const int64_t step = 42;
    st.add_i64("step", {}, &step);
    st.metadata["config"] = "tiny";
    st.save(dir.file("m.safetensors"));

    const std::string cmd = "/usr/bin/python3 " + dir.file("read.py") + " " + dir.file("m.safetensors") + " > " +
                            dir.file("out.txt") + " 2>&1";
    const int rc = std::system(cmd.c_str());
    const std::string out = read_file(dir.file("out.txt"));
    INFO("python output:\n" << out);
    REQUIRE(rc == 0);
    std::istringstream lines(out);
    std::string name, dtype, shape0, shape1;
    lines >> name >> dtype >> shape0 >> shape1;
    CHECK(name == "step"); // sorted: "step" < "w"
    CHECK(dtype == "I64");
    CHECK(shape0 == "[]");
    CHECK(shape1 == "42");
    lines >> name >> dtype >> shape0 >> shape1;
    CHECK(name == "w");
    CHECK(dtype == "F32");
    CHECK(shape0 + shape1 == "[2,3]");
    for (float expected : w) {
        double v = 0.0;
        lines >> v;
        CHECK(v == static_cast<double>(expected)); // exact: repr() and float -> double both are
    }
    std::string meta, value;
    lines >> meta >> value;
    CHECK(meta == "meta");
    CHECK(value == "tiny");
}

TEST_CASE("parse rejects a too-short file, a bad header length and a header that is not a "
          "JSON object",
          "[ch06][core][safetensors]") {
    CHECK_THAT(parse_error("12345"),
               Contains(SRC + ": file is 5 bytes, too short") && Contains("at least 8") && Contains("truncated"));
    std::string truncated = make_file(R"({"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})");
    truncated.resize(30);
    CHECK_THAT(parse_error(truncated), Contains(SRC) && Contains("only 22 follow") && Contains("truncated"));
    std::string huge(16, ' ');
    const uint64_t absurd = 1ULL << 40;
    std::memcpy(huge.data(), &absurd, 8);
    CHECK_THAT(parse_error(huge),
               Contains(SRC) && Contains("1099511627776") && Contains("corrupt or not a safetensors file"));
    CHECK_THAT(parse_error(make_file("{\"a\": ")), Contains(SRC) && Contains("not valid JSON"));
    CHECK_THAT(parse_error(make_file("{\"\xFF\": 1}")), Contains("not valid JSON")); // bad UTF-8
    CHECK_THAT(parse_error(make_file("[1, 2]")), Contains(SRC) && Contains("array") && Contains("expected an object"));
    CHECK_THAT(parse_error(make_file(std::string(100, '[') + std::string(100, ']'))), Contains("nests deeper"));
}

TEST_CASE("parse rejects tensor entries with missing, mistyped or unknown fields", "[ch06][core][safetensors]") {
    const auto entry = [](const std::string& fields) {
        return make_file(std::string(R"({"h.0.w":{)").append(fields).append("}}"), "abcdefgh");
    };
    const std::string shape = R"("shape":[2],)";
    const std::string offsets = R"("data_offsets":[0,8])";
    CHECK_THAT(parse_error(entry(shape + offsets)), Contains(SRC) && Contains("tensor h.0.w has no \"dtype\" field"));
    CHECK_THAT(parse_error(entry(R"("dtype":"F32",)" + offsets)), Contains("no \"shape\" field"));
    CHECK_THAT(parse_error(entry(R"("dtype":"F32","shape":[2])")), Contains("no \"data_offsets\" field"));
    CHECK_THAT(parse_error(make_file(R"({"h.0.w": 5})")),
               Contains("tensor h.0.w is a JSON number") && Contains("expected an object"));
    CHECK_THAT(parse_error(entry(R"("dtype":"BF16",)" + shape + offsets)),
               Contains("dtype \"BF16\"") && Contains("expected one of"));
    CHECK_THAT(parse_error(entry(R"("dtype":4,)" + shape + offsets)), Contains("dtype 4"));
    CHECK_THAT(parse_error(entry(R"("dtype":"F32","shape":"2",)" + offsets)), Contains("expected an array"));
    CHECK_THAT(parse_error(entry(R"("dtype":"F32","shape":[-2],)" + offsets)),
               Contains("-2") && Contains("non-negative integer"));
    CHECK_THAT(parse_error(entry(R"("dtype":"F32","shape":[2.5],)" + offsets)), Contains("non-negative integer"));
    CHECK_THAT(parse_error(entry(R"("dtype":"F32",)" + shape + R"("data_offsets":[0])")),
               Contains("data_offsets [0]") && Contains("expected [begin, end]"));
    CHECK_THAT(parse_error(entry(R"("dtype":"F32",)" + shape + R"("data_offsets":"0-8")")),
               Contains("expected [begin, end]"));
}

TEST_CASE("parse rejects offsets out of order, past the data, overlapping or of the wrong size",
          "[ch06][core][safetensors]") {
    const auto one = [](const std::string& dtype_shape, const std::string& offsets, size_t data) {
        return make_file(
            std::string(R"({"t":{)").append(dtype_shape).append(R"(,"data_offsets":)").append(offsets).append("}}"),
            std::string(data, 'x'));
    };
    const std::string f32x2 = R"("dtype":"F32","shape":[2])";
    CHECK_THAT(parse_error(one(f32x2, "[8,0]", 8)), Contains("end < begin"));
    CHECK_THAT(parse_error(one(f32x2, "[0,8]", 5)),
               Contains(SRC) && Contains("ends at byte 8") && Contains("only 5 bytes") && Contains("truncated"));
    CHECK_THAT(parse_error(one(f32x2, "[0,6]", 8)),
               Contains("shape (2) of F32") && Contains("2 x 4 bytes") && Contains("span 6"));
    CHECK_THAT(parse_error(one(R"("dtype":"F32","shape":[4294967296,4294967296,4294967296])", "[0,8]", 8)),
               Contains("more elements than any file can hold")); // overflow is caught
    const std::string two = make_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                                      R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
                                      "abcdef");
    CHECK_THAT(parse_error(two), Contains("tensors a [0, 4) and b [2, 6) overlap"));
}

TEST_CASE("parse rejects metadata that is not an object of strings", "[ch06][core][safetensors]") {
    CHECK_THAT(parse_error(make_file(R"({"__metadata__":{"step":12}})")),
               Contains(SRC) && Contains("\"step\"") && Contains("expected a string"));
    CHECK_THAT(parse_error(make_file(R"({"__metadata__":["a"]})")), Contains("expected an object of string values"));
}

TEST_CASE("copy_f32, get_f32, get_ints and at say which tensor is wrong and how", "[ch06][core][safetensors]") {
    SafeTensors st;
    for (int i = 0; i < 12; ++i) {
        const std::vector<float> v(384, static_cast<float>(i));
        st.add_f32("h." + std::to_string(i + 10) + ".ln_1.weight", {384}, v.data());
    }
    const int64_t step = 3;
    st.add_i64("step", {}, &step);
    const SafeTensors read = SafeTensors::parse(st.serialize(), SRC);
    std::vector<float> out(512);
    CHECK_THROWS_WITH(read.copy_f32("h.10.ln_1.weight", {512}, out.data()),
                      SRC + ": tensor h.10.ln_1.weight has shape (384) but the model expects "
                            "(512); was the checkpoint made with another config?");
    CHECK_THROWS_WITH(read.copy_f32("step", {}, out.data()),
                      Contains("tensor step has dtype I64 but F32 was expected"));
    CHECK_THROWS_WITH(read.get_f32("step"), Contains("I64 but F32"));
    CHECK_THROWS_WITH(read.get_ints("h.11.ln_1.weight"), Contains("F32 but I64 or I32"));
    // 13 tensors: the first 10 in name order are listed, then the count of the rest.
    CHECK_THROWS_WITH(read.at("wte.weight"), Contains(SRC + ": no tensor named wte.weight; the file has 13 tensors") &&
                                                 Contains("h.10.ln_1.weight, h.11.ln_1.weight") &&
                                                 Contains("h.19.ln_1.weight (and 3 more)"));
    read.copy_f32("h.15.ln_1.weight", {384}, out.data());
    CHECK(out[383] == 5.0f);
}

TEST_CASE("add rejects duplicate and reserved names, and serialize rejects invalid UTF-8",
          "[ch06][core][safetensors]") {
    SafeTensors st;
    const float x = 1.0f;
    st.add_f32("x", {}, &x);
    CHECK_THROWS_WITH(st.add_f32("x", {}, &x), Contains("tensor x is already in"));
    CHECK_THROWS_WITH(st.add_f32("__metadata__", {}, &x), Contains("reserved"));
    CHECK_THROWS_WITH(st.add_f32("y", {2}, nullptr), Contains("no data pointer"));
    st.metadata["bad"] = "\xFF\xFE";
    CHECK_THROWS_WITH(st.serialize(), Contains("UTF-8"));
}

TEST_CASE("parse never crashes: every truncation, random bytes and corrupted headers either "
          "parse or throw gptbook::Error",
          "[ch06][core][safetensors][fuzz]") {
    // Any other exception escapes and fails the test; a crash or (under ASan) an out-of-bounds
    // read fails the run.
    const auto outcome = [](const std::string& bytes) {
        try {
            SafeTensors::parse(bytes, "fuzz");
            return 1;
        } catch (const Error&) {
            return 0;
        }
    };
    const std::string valid = sample_file().serialize();
    REQUIRE(outcome(valid) == 1);
    for (size_t len = 0; len < valid.size(); ++len) {
        CAPTURE(len);
        REQUIRE(outcome(valid.substr(0, len)) == 0); // every prefix is truncated, so rejected
    }

    Rng rng(2718);
    int parsed = 0, rejected = 0;
    const std::string alphabet = "{}[]\":, 0123456789-.eE+FIU3264dtypeshapdaofs_mn\\u";
    for (int i = 0; i < 300; ++i) {
        std::string junk(rng.below(64), '\0');
        for (char& c : junk) c = static_cast<char>(rng.below(256));
        (outcome(junk) ? parsed : rejected)++;
        // A plausible length followed by JSON-like characters reaches the JSON checks.
        std::string header(rng.below(80), ' ');
        for (char& c : header) c = alphabet[rng.below(alphabet.size())];
        (outcome(make_file(header, std::string(rng.below(16), 'x'))) ? parsed : rejected)++;
    }
    // Data bytes carry no structure: any change there still parses.
    uint64_t header_len = 0;
    std::memcpy(&header_len, valid.data(), 8);
    const size_t data_start = 8 + header_len;
    for (int i = 0; i < 200; ++i) {
        std::string bytes = valid;
        const size_t pos = data_start + rng.below(bytes.size() - data_start);
        bytes[pos] = static_cast<char>(bytes[pos] ^ static_cast<char>(1 + rng.below(255)));
        REQUIRE(outcome(bytes) == 1);
    }
    int header_parsed = 0, header_rejected = 0;
    for (int i = 0; i < 600; ++i) { // one to three bytes of the length or header overwritten
        std::string bytes = valid;
        for (uint64_t k = 0, n = 1 + rng.below(3); k < n; ++k) {
            bytes[rng.below(data_start)] =
                i % 3 ? alphabet[rng.below(alphabet.size())] : static_cast<char>(rng.below(256));
        }
        (outcome(bytes) ? header_parsed : header_rejected)++;
    }
    // Both branches were reached: some corrupted headers are still valid (a changed letter in a
    // name or a metadata value), most are not.
    CHECK(header_parsed > 0);
    CHECK(header_rejected > 300);
    CHECK(rejected > 550); // of the 600 junk inputs, only a rare few are valid by chance
    CHECK(parsed + rejected == 600);
}
