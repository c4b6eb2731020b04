/**
 * @file
 * @brief The playground's page (HTML, CSS, JavaScript), built into the binary from
 *        src/gptbook/serve/page/ by cmake/EmbedFiles.cmake: `gptbook serve` needs no other file.
 */
#pragma once

#include <string_view>
#include <vector>

namespace gptbook {

/// One file of the page, as the server answers it.
struct PageAsset {
    const char* path;         ///< where it is served: "/playground.js"; index.html also at "/"
    const char* content_type; ///< "text/html; charset=utf-8", ...
    std::string_view content; ///< its bytes
};

/// Every file of the page.
const std::vector<PageAsset>& page_assets();

} // namespace gptbook
