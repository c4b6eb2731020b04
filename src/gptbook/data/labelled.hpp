/**
 * @file
 * @brief Labelled texts for a classifier (chapter 11): JSON Lines files, token rows, padded batches.
 *
 * Shape legend: B batch (rows), T time (tokens per row), N texts in a set, K classes.
 *
 * A labelled set is N texts, each with one of K class names ("ham", "spam"). On disk it is JSON
 * Lines, one object per line: {"text": "Subject: ...", "label": "spam", "id": "spam-1/00001"}
 * (fields other than "text" and "label" are ignored). In memory a label is the index of its name
 * in `classes`, the class the classification head's output k stands for.
 *
 * A classifier reads a row of at most T tokens and predicts from the last real one, the only
 * position whose causal attention has seen the whole row. Texts longer than T are cut to their
 * first T tokens; shorter ones are padded on the right, and Batch::lengths says where each row's
 * real tokens end. The spam data (tools/spam/prepare_spam.py) puts "Subject: ..." first, so the
 * first T tokens are the subject and the start of the message.
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/core/tensor.hpp"
#include "gptbook/data/batch.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace gptbook {

/// N texts and their classes.
struct LabelledSet {
    std::vector<std::string> texts;   ///< (N) the texts, UTF-8
    std::vector<int32_t> labels;      ///< (N) labels[i] is the index in `classes` of text i's class
    std::vector<std::string> classes; ///< (K) the class names, K >= 2
};

/**
 * @brief Reads a JSON Lines file of {"text": ..., "label": ...} objects.
 * @param[in] path    the file; empty lines are skipped, every other line must be one object with
 *                    string fields "text" and "label"
 * @param[in] classes (K) the class names, in the order that defines the label indices; empty:
 *                    the distinct labels of the file, sorted (for the spam data: ham, spam)
 * @return N texts with labels in [0, K), in file order
 *
 * Pass the training set's classes when loading its validation and test sets, so that index k
 * means the same class in all three. Throws gptbook::Error, naming the file and the line, when
 * the file is missing or has no examples, a line is not valid JSON or not an object, "text" or
 * "label" is missing or not a string, a label is not one of the given classes, or there are
 * fewer than 2 classes (a file with one label and no classes given, or fewer than 2 given).
 */
LabelledSet load_labelled_jsonl(const std::string& path, const std::vector<std::string>& classes = {});

/**
 * @brief Where the prepared SpamAssassin data is: a directory holding train.jsonl, val.jsonl,
 *        test.jsonl (and unlabelled.txt, manifest.json).
 * @return $GPTBOOK_DATA_DIR/spamassassin if GPTBOOK_DATA_DIR is set; else data/cache/spamassassin
 *         under the working directory (the repository root, as in the book) or else under the
 *         source tree, the first that holds the three files
 *
 * Throws gptbook::Error saying where it looked and to run scripts/install-spam-data.sh when the
 * files are in none of those places.
 */
std::string spam_data_dir();

/// A labelled set as token ids, ready to batch.
struct LabelledTokens {
    std::vector<Tokens> rows;    ///< (N) token ids of each text, 1 to T of them
    std::vector<int32_t> labels; ///< (N) class index of each row, in [0, n_classes)
    int n_classes = 0;           ///< K
};

/**
 * @brief Encodes every text and keeps its first T tokens.
 * @param[in] set    N texts with labels
 * @param[in] encode text to token ids, e.g. `[&](std::string_view s) { return tok.encode(s); }`
 * @param[in] T      the most tokens a row keeps (the classifier's context), T > 0
 * @return (N) rows of min(T, tokens in text) ids; for the spam data the first T tokens are the
 *         subject line and the start of the message, which is where spam shows itself
 *
 * Throws gptbook::Error when T is not positive, texts and labels differ in number, a label is not
 * in [0, K), or a text encodes to 0 tokens (naming the row: a row needs a last token to read).
 */
LabelledTokens encode_labelled(const LabelledSet& set, const std::function<Tokens(std::string_view)>& encode, int T);

/**
 * @brief The given rows as a padded classifier batch.
 * @param[in] data   N encoded rows
 * @param[in] rows   (B) indices into data.rows, each in [0, N); repeats allowed
 * @param[in] T      tokens per batch row, T > 0; a longer row is cut to its first T tokens
 * @param[in] pad_id the id that fills each row after its real tokens, >= 0 (e.g. GPT-2's
 *                   <|endoftext|> 50256); the model's output there is never read
 * @return inputs (B*T): row b's tokens then pad_id up to T; targets (B*T): all Batch::ignore (no
 *         next-token loss); labels (B): data.labels[rows[b]]; lengths (B): min(T, row length),
 *         the position of the last real token plus one
 *
 * Throws gptbook::Error when rows is empty, an index is out of range, a row is empty, T is not
 * positive or pad_id is negative.
 */
Batch labelled_batch(const LabelledTokens& data, const std::vector<std::size_t>& rows, int T, int32_t pad_id);

/**
 * @brief B rows drawn uniformly with replacement, as labelled_batch().
 * @param[in]     data   N encoded rows, N > 0
 * @param[in]     B      rows in the batch, B > 0
 * @param[in]     T      as for labelled_batch()
 * @param[in]     pad_id as for labelled_batch()
 * @param[in,out] rng    draws B row indices, in batch-row order, each with rng.below(N): the batch
 *                       depends only on the data and the Rng state, so a resumed run draws the
 *                       same batches
 */
Batch random_labelled_batch(const LabelledTokens& data, int B, int T, int32_t pad_id, Rng& rng);

} // namespace gptbook
