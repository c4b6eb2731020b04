// Shapes: OC output channels, C input channels, G group size.
#include "gptbook/quant/quantize.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gptbook {

namespace {

// Eq. (14.1) with `qmax` levels on each side of 0: d = max|x| / qmax, q = round(x / d). A group
// holding a NaN or an infinity gets the scale NaN, so that whatever is computed with it is NaN too
// (a diverged activation must not turn into a finite number).
float quantize_group(const float* x, int n, int8_t* q, int qmax) {
    float amax = 0.0f;
    bool finite = true;
    for (int k = 0; k < n; ++k) {
        finite = finite && std::isfinite(x[k]);
        amax = std::max(amax, std::fabs(x[k]));
    }
    const float d = amax / static_cast<float>(qmax);
    for (int k = 0; k < n; ++k) { // an all-zero group has d = 0: every q is 0, and d q is exactly x
        // The clamp matters only where x / d rounds past qmax: a subnormal largest value makes d inexact.
        const long r = d == 0.0f || !finite ? 0 : std::lround(x[k] / d);
        q[k] = static_cast<int8_t>(std::clamp<long>(r, -qmax, qmax));
    }
    return finite ? d : std::numeric_limits<float>::quiet_NaN();
}

} // namespace

int QuantMatrix::q(int r, int c) const {
    const size_t row = static_cast<size_t>(r) * row_bytes();
    if (bits == 8) return static_cast<int8_t>(data[row + c]);
    const uint8_t byte = data[row + c / 2];
    return (c % 2 == 0 ? byte & 0x0F : byte >> 4) - 8; // u = q + 8, column 2i low, 2i+1 high
}

float quantize_group_q8(const float* x, int n, int8_t* q) { return quantize_group(x, n, q, 127); }

float quantize_group_q4(const float* x, int n, int8_t* q) { return quantize_group(x, n, q, 7); }

void check_quant_shape(int bits, int group, int cols, const std::string& what) {
    GPTBOOK_CHECK(bits == 8 || bits == 4, what << ": " << bits << " bits; expected 8 (int8) or 4 (int4)");
    GPTBOOK_CHECK(group > 0 && group % 32 == 0, what << ": group size " << group
                                                     << "; expected a multiple of 32 (32, 64, 128, ...), the "
                                                     << "block the integer kernels read at once");
    GPTBOOK_CHECK(cols % group == 0, what << ": rows of " << cols << " numbers do not split into groups of " << group
                                          << "; choose a group size that divides " << cols << " (--group)");
}

QuantMatrix quantize_matrix(const float* w, int rows, int cols, int bits, int group, const std::string& what) {
    check_quant_shape(bits, group, cols, what.empty() ? "quantize_matrix" : what);
    QuantMatrix m{.bits = bits, .group = group, .rows = rows, .cols = cols, .data = {}, .scales = {}};
    const int groups = cols / group;
    m.data.assign(static_cast<size_t>(rows) * m.row_bytes(), 0);
    m.scales.resize(static_cast<size_t>(rows) * groups);
    std::vector<int8_t> q(group);
    for (size_t i = 0; i < static_cast<size_t>(rows) * cols; ++i)
        GPTBOOK_CHECK(std::isfinite(w[i]),
                      (what.empty() ? "quantize_matrix" : what)
                          << ": weight (" << i / cols << ", " << i % cols << ") is " << w[i]
                          << "; a run whose weights are not finite diverged, quantize an earlier one");
    for (int r = 0; r < rows; ++r) {
        uint8_t* row = m.data.data() + static_cast<size_t>(r) * m.row_bytes();
        for (int g = 0; g < groups; ++g) {
            const float* x = w + static_cast<size_t>(r) * cols + static_cast<size_t>(g) * group;
            const size_t first = static_cast<size_t>(g) * group; // the group's first column
            if (bits == 8) {
                m.scales[static_cast<size_t>(r) * groups + g] = quantize_group_q8(x, group, q.data());
                std::copy(q.begin(), q.end(), reinterpret_cast<int8_t*>(row) + first);
            } else {
                m.scales[static_cast<size_t>(r) * groups + g] = quantize_group_q4(x, group, q.data());
                for (int k = 0; k < group; k += 2) // two nibbles a byte: u = q + 8 in [1, 15]
                    row[(first + k) / 2] = static_cast<uint8_t>((q[k] + 8) | ((q[k + 1] + 8) << 4));
            }
        }
    }
    return m;
}

void dequantize_matrix(const QuantMatrix& m, float* out) {
    for (int r = 0; r < m.rows; ++r)
        for (int c = 0; c < m.cols; ++c) out[static_cast<size_t>(r) * m.cols + c] = m.dequantized(r, c);
}

void check_quant_matrix(const QuantMatrix& m, const std::string& what) {
    check_quant_shape(m.bits, m.group, m.cols, what);
    GPTBOOK_CHECK(m.rows > 0 && m.cols > 0,
                  what << ": a (" << m.rows << ", " << m.cols << ") matrix; expected both > 0");
    const size_t data = static_cast<size_t>(m.rows) * m.row_bytes();
    const size_t scales = static_cast<size_t>(m.rows) * (m.cols / m.group);
    GPTBOOK_CHECK(m.data.size() == data, what << ": " << m.data.size() << " bytes of integers, expected " << data);
    GPTBOOK_CHECK(m.scales.size() == scales, what << ": " << m.scales.size() << " scales, expected " << scales);
    for (float d : m.scales)
        GPTBOOK_CHECK(std::isfinite(d) && d >= 0.0f, what << ": a scale is " << d << "; expected a finite number >= 0 "
                                                          << "(the file is damaged)");
    if (m.bits == 8) {
        for (uint8_t b : m.data)
            GPTBOOK_CHECK(b != 0x80, what << ": an int8 weight is -128; Q8_0 stores [-127, 127] (the file was not "
                                          << "written by gptbook quantize)");
    } else {
        for (uint8_t b : m.data)
            GPTBOOK_CHECK((b & 0x0F) != 0 && (b >> 4) != 0,
                          what << ": a 4-bit weight has the nibble 0; gptbook's int4 stores q + 8 in [1, 15] "
                               << "(the file was not written by gptbook quantize)");
    }
}

} // namespace gptbook
