// The safetensors format. Shapes here are PyTorch (row-major) shapes, written "(d0, d1, ...)";
// see tensor.hpp for the shape legend of the model's tensors.
#include "gptbook/core/safetensors.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

// Tensor bytes are copied to and from memory as they are: the file is little-endian, so the
// host must be too (x86-64, ARM64 and RISC-V all are).
static_assert(std::endian::native == std::endian::little, "gptbook's safetensors reader assumes a little-endian host");

namespace gptbook {

namespace {

using json = nlohmann::json;

constexpr const char* METADATA_KEY = "__metadata__";
/// A real header is a few kB per hundred tensors; anything above this is corruption, and
/// refusing it early avoids allocating gigabytes for a garbled length field.
constexpr uint64_t MAX_HEADER_BYTES = 100'000'000;
/// A valid header nests three deep (file object, tensor object, shape array); the limit keeps a
/// garbled "[[[[..." header from building a huge tree.
constexpr int MAX_JSON_DEPTH = 8;

constexpr DType ALL_DTYPES[] = {DType::F32, DType::F64, DType::I32, DType::I64, DType::I8, DType::U8, DType::U64};

/// The name to use in messages for a SafeTensors that has no source yet.
std::string where(const std::string& source) {
    return source.empty() ? std::string("safetensors (in memory)") : source;
}

bool parse_dtype(const std::string& s, DType& out) {
    for (DType d : ALL_DTYPES) {
        if (to_string(d) == s) {
            out = d;
            return true;
        }
    }
    return false;
}

/// Product of the dimensions, or false if it overflows size_t.
bool checked_numel(const std::vector<size_t>& shape, size_t& out) {
    size_t n = 1;
    for (size_t d : shape) {
        if (d != 0 && n > std::numeric_limits<size_t>::max() / d) return false;
        n *= d;
    }
    out = n;
    return true;
}

/// "a, b, c (and 7 more)": up to `limit` names from a map, for "did you mean" lists.
template <class Map>
std::string list_keys(const Map& m, size_t limit = 10) {
    std::ostringstream os;
    size_t i = 0;
    for (const auto& kv : m) {
        if (i == limit) break;
        os << (i++ == 0 ? "" : ", ") << kv.first;
    }
    if (m.size() > limit) os << " (and " << (m.size() - limit) << " more)";
    if (m.empty()) os << "(none)";
    return os.str();
}

/// Reads the 8-byte header length and returns the header's JSON, checking sizes and nesting.
json parse_header(const std::string& bytes, const std::string& src, uint64_t& header_len) {
    GPTBOOK_CHECK(bytes.size() >= 8, src << ": file is " << bytes.size()
                                         << " bytes, too short for a safetensors header (needs at least 8); the file "
                                            "is truncated or not a safetensors file");
    std::memcpy(&header_len, bytes.data(), 8); // little-endian host: see the static_assert
    GPTBOOK_CHECK(header_len <= MAX_HEADER_BYTES,
                  src << ": header length field says " << header_len << " bytes, more than the " << MAX_HEADER_BYTES
                      << " any real header needs; the file is corrupt or not a safetensors file");
    GPTBOOK_CHECK(header_len <= bytes.size() - 8, src << ": header length field says " << header_len
                                                      << " bytes but only " << bytes.size() - 8
                                                      << " follow it; the file is truncated (re-copy or re-save it)");
    const char* begin = bytes.data() + 8;
    const auto depth_guard = [&src](int depth, json::parse_event_t, json&) {
        GPTBOOK_CHECK(depth <= MAX_JSON_DEPTH,
                      src << ": header JSON nests deeper than " << MAX_JSON_DEPTH
                          << " levels, expected {name: {dtype, shape, data_offsets}}; the file is "
                             "corrupt or not a safetensors file");
        return true;
    };
    json header;
    try {
        header = json::parse(begin, begin + header_len, depth_guard);
    } catch (const json::exception& e) {
        GPTBOOK_FAIL(src << ": header is not valid JSON (" << e.what()
                         << "); the file is corrupt or not a safetensors file");
    }
    GPTBOOK_CHECK(header.is_object(), src << ": header is a JSON " << header.type_name()
                                          << ", expected an object mapping tensor names to "
                                             "{dtype, shape, data_offsets}; the file is corrupt "
                                             "or not a safetensors file");
    return header;
}

/// A non-negative integer field; `what` names it in the error.
size_t json_size(const json& j, const std::string& src, const std::string& what) {
    GPTBOOK_CHECK(j.is_number_unsigned(), src << ": " << what << " is " << j.dump()
                                              << ", expected a non-negative integer; the file is corrupt");
    const uint64_t v = j.get<uint64_t>();
    GPTBOOK_CHECK(v <= std::numeric_limits<size_t>::max(),
                  src << ": " << what << " is " << v << ", too large for this machine");
    return static_cast<size_t>(v);
}

/// Byte range of one tensor inside the data section, for the overlap check.
struct Span {
    size_t begin, end;
    std::string name;
};

/// Validates one header entry and copies its bytes out of `data` (`data_size` bytes).
Tensor parse_tensor(const std::string& name, const json& entry, const char* data, size_t data_size,
                    const std::string& src, Span& span) {
    const std::string t = std::string("tensor ").append(name); // not operator+: GCC 12 -Wrestrict
    GPTBOOK_CHECK(entry.is_object(), src << ": " << t << " is a JSON " << entry.type_name()
                                         << ", expected an object {dtype, shape, data_offsets}");
    for (const char* field : {"dtype", "shape", "data_offsets"})
        GPTBOOK_CHECK(entry.contains(field),
                      src << ": " << t << " has no \"" << field << "\" field; the header is corrupt");
    const json& jd = entry["dtype"];
    const json& js = entry["shape"];
    const json& jo = entry["data_offsets"];
    Tensor out;
    GPTBOOK_CHECK(jd.is_string() && parse_dtype(jd.get<std::string>(), out.dtype),
                  src << ": " << t << " has dtype " << jd.dump()
                      << ", expected one of \"F32\", \"F64\", \"I32\", \"I64\", \"I8\", \"U8\", \"U64\"; "
                         "convert the tensor to one of these types");
    GPTBOOK_CHECK(js.is_array(), src << ": " << t << " has shape " << js.dump() << ", expected an array of dimensions");
    for (size_t i = 0; i < js.size(); ++i)
        out.shape.push_back(json_size(js[i], src, std::string(t).append(" shape entry")));
    GPTBOOK_CHECK(jo.is_array() && jo.size() == 2, src << ": " << t << " has data_offsets " << jo.dump()
                                                       << ", expected [begin, end]; the header is corrupt");
    span = {json_size(jo[0], src, std::string(t).append(" begin offset")),
            json_size(jo[1], src, std::string(t).append(" end offset")), name};
    GPTBOOK_CHECK(span.begin <= span.end, src << ": " << t << " has data_offsets [" << span.begin << ", " << span.end
                                              << "] with end < begin; the header is corrupt");
    GPTBOOK_CHECK(span.end <= data_size, src << ": " << t << " ends at byte " << span.end << " of the data section but "
                                             << "the data section has only " << data_size
                                             << " bytes; the file is truncated (re-copy or re-save it)");
    size_t numel = 0;
    const size_t width = dtype_size(out.dtype);
    GPTBOOK_CHECK(checked_numel(out.shape, numel) && numel <= std::numeric_limits<size_t>::max() / width,
                  src << ": " << t << " has shape " << shape_to_string(out.shape)
                      << ", more elements than any file can hold; the header is corrupt");
    GPTBOOK_CHECK(numel * width == span.end - span.begin,
                  src << ": " << t << " has shape " << shape_to_string(out.shape) << " of " << to_string(out.dtype)
                      << ", which needs " << numel << " x " << width << " bytes, but its data_offsets span "
                      << span.end - span.begin << " bytes; the header is corrupt");
    out.bytes.assign(data + span.begin, span.end - span.begin);
    return out;
}

std::map<std::string, std::string> parse_metadata(const json& j, const std::string& src) {
    GPTBOOK_CHECK(j.is_object(),
                  src << ": __metadata__ is a JSON " << j.type_name() << ", expected an object of string values");
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : j.items()) {
        GPTBOOK_CHECK(value.is_string(), src << ": __metadata__ value for \"" << key << "\" is a JSON "
                                             << value.type_name()
                                             << ", expected a string; store numbers and lists as JSON text");
        out[key] = value.get<std::string>();
    }
    return out;
}

/// Rejects two tensors sharing bytes: a writer bug that would alias them on load.
void check_no_overlap(std::vector<Span>& spans, const std::string& src) {
    std::sort(spans.begin(), spans.end(),
              [](const Span& a, const Span& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
    for (size_t i = 1; i < spans.size(); ++i)
        GPTBOOK_CHECK(spans[i].begin >= spans[i - 1].end,
                      src << ": tensors " << spans[i - 1].name << " [" << spans[i - 1].begin << ", " << spans[i - 1].end
                          << ") and " << spans[i].name << " [" << spans[i].begin << ", " << spans[i].end
                          << ") overlap in the data section; the header is corrupt");
}

} // namespace

std::string to_string(DType d) {
    switch (d) {
    case DType::F32: return "F32";
    case DType::F64: return "F64";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::U64: return "U64";
    }
    GPTBOOK_FAIL("to_string: invalid DType value " << static_cast<int>(d));
}

size_t dtype_size(DType d) {
    switch (d) {
    case DType::F32:
    case DType::I32: return 4;
    case DType::F64:
    case DType::I64:
    case DType::U64: return 8;
    case DType::I8:
    case DType::U8: return 1;
    }
    GPTBOOK_FAIL("dtype_size: invalid DType value " << static_cast<int>(d));
}

size_t Tensor::numel() const {
    size_t n = 1;
    for (size_t d : shape) n *= d;
    return n;
}

std::string shape_to_string(const std::vector<size_t>& shape) {
    std::ostringstream os;
    os << "(";
    for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
    os << ")";
    return os.str();
}

SafeTensors SafeTensors::load(const std::string& path) { return parse(read_file(path), path); }

SafeTensors SafeTensors::parse(const std::string& bytes, const std::string& source) {
    const std::string src = where(source);
    uint64_t header_len = 0;
    const json header = parse_header(bytes, src, header_len);
    const char* data = bytes.data() + 8 + header_len;
    const size_t data_size = bytes.size() - 8 - static_cast<size_t>(header_len);
    SafeTensors st;
    st.source = source;
    std::vector<Span> spans;
    for (const auto& [name, entry] : header.items()) {
        if (name == METADATA_KEY) {
            st.metadata = parse_metadata(entry, src);
            continue;
        }
        spans.emplace_back();
        st.tensors[name] = parse_tensor(name, entry, data, data_size, src, spans.back());
    }
    check_no_overlap(spans, src);
    return st;
}

std::string SafeTensors::serialize() const {
    json header = json::object();
    size_t offset = 0;
    for (const auto& [name, t] : tensors) { // std::map: name order
        GPTBOOK_CHECK(t.bytes.size() == t.numel() * dtype_size(t.dtype),
                      "serialize: tensor " << name << " has shape " << shape_to_string(t.shape) << " of "
                                           << to_string(t.dtype) << " but " << t.bytes.size()
                                           << " bytes; fix how it was built");
        header[name] = {
            {"dtype", to_string(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
        offset += t.bytes.size();
    }
    if (!metadata.empty()) header[METADATA_KEY] = metadata;
    std::string text;
    try {
        text = header.dump();
    } catch (const json::exception& e) { // invalid UTF-8 in a name or a metadata value
        GPTBOOK_FAIL("serialize " << where(source) << ": " << e.what() << "; tensor names and metadata must be UTF-8");
    }
    // Pad with spaces (valid JSON whitespace) so the data starts 8-byte aligned, as the
    // reference writer does: a reader can then map F64/I64 tensors in place.
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string out;
    out.reserve(8 + text.size() + offset);
    const uint64_t header_len = text.size();
    out.append(reinterpret_cast<const char*>(&header_len), 8);
    out.append(text);
    for (const auto& kv : tensors) out.append(kv.second.bytes);
    return out;
}

void SafeTensors::save(const std::string& path) const { write_file_atomic(path, serialize()); }

void SafeTensors::add(const std::string& name, DType dtype, const std::vector<size_t>& shape, const void* data) {
    GPTBOOK_CHECK(name != METADATA_KEY, "add: \"" << name << "\" is reserved for metadata; "
                                                  << "choose another tensor name");
    GPTBOOK_CHECK(!contains(name),
                  "add: tensor " << name << " is already in " << where(source) << "; each name may appear once");
    size_t numel = 0;
    GPTBOOK_CHECK(checked_numel(shape, numel) && numel <= std::numeric_limits<size_t>::max() / dtype_size(dtype),
                  "add: tensor " << name << " has shape " << shape_to_string(shape)
                                 << ", too many elements for this machine");
    GPTBOOK_CHECK(data != nullptr || numel == 0,
                  "add: tensor " << name << " has " << numel << " elements but no data pointer");
    Tensor t;
    t.dtype = dtype;
    t.shape = shape;
    if (numel > 0) t.bytes.assign(static_cast<const char*>(data), numel * dtype_size(dtype));
    tensors[name] = std::move(t);
}

void SafeTensors::add_f32(const std::string& name, const std::vector<size_t>& shape, const float* data) {
    add(name, DType::F32, shape, data);
}

void SafeTensors::add_i64(const std::string& name, const std::vector<size_t>& shape, const int64_t* data) {
    add(name, DType::I64, shape, data);
}

const Tensor& SafeTensors::at(const std::string& name) const {
    const auto it = tensors.find(name);
    GPTBOOK_CHECK(it != tensors.end(), where(source) << ": no tensor named " << name << "; the file has "
                                                     << tensors.size() << " tensors: " << list_keys(tensors)
                                                     << "; was it written by another version or config?");
    return it->second;
}

/// Throws unless tensor `name` has dtype `want`.
static const Tensor& expect_dtype(const SafeTensors& st, const std::string& name, DType want) {
    const Tensor& t = st.at(name);
    GPTBOOK_CHECK(t.dtype == want, where(st.source) << ": tensor " << name << " has dtype " << to_string(t.dtype)
                                                    << " but " << to_string(want) << " was expected; "
                                                    << "convert it when exporting");
    return t;
}

void SafeTensors::copy_f32(const std::string& name, const std::vector<size_t>& shape, float* out) const {
    const Tensor& t = expect_dtype(*this, name, DType::F32);
    GPTBOOK_CHECK(t.shape == shape, where(source) << ": tensor " << name << " has shape " << shape_to_string(t.shape)
                                                  << " but the model expects " << shape_to_string(shape)
                                                  << "; was the checkpoint made with another "
                                                     "config?");
    if (!t.bytes.empty()) std::memcpy(out, t.bytes.data(), t.bytes.size());
}

std::vector<float> SafeTensors::get_f32(const std::string& name) const {
    const Tensor& t = expect_dtype(*this, name, DType::F32);
    std::vector<float> out(t.numel());
    if (!t.bytes.empty()) std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
    return out;
}

std::vector<int64_t> SafeTensors::get_ints(const std::string& name) const {
    const Tensor& t = at(name);
    GPTBOOK_CHECK(t.dtype == DType::I64 || t.dtype == DType::I32,
                  where(source) << ": tensor " << name << " has dtype " << to_string(t.dtype)
                                << " but I64 or I32 was expected; convert it when exporting");
    std::vector<int64_t> out(t.numel());
    if (t.dtype == DType::I64) {
        if (!t.bytes.empty()) std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
        return out;
    }
    for (size_t i = 0; i < out.size(); ++i) {
        int32_t v = 0;
        std::memcpy(&v, t.bytes.data() + 4 * i, 4);
        out[i] = v;
    }
    return out;
}

const std::string& SafeTensors::meta(const std::string& key) const {
    const auto it = metadata.find(key);
    GPTBOOK_CHECK(it != metadata.end(), where(source) << ": no metadata key \"" << key << "\"; the file has "
                                                      << list_keys(metadata)
                                                      << "; was it written by another version of gptbook?");
    return it->second;
}

} // namespace gptbook
