"""Copying a vocabulary (the `tokenizer.*` keys) from one GGUF file into a file being written."""
import gguf


def copy_tokenizer(writer, vocab_path, skip=()):
    """Every `tokenizer.*` key of the GGUF at `vocab_path`, but those in `skip`; returns the number of tokens."""
    vocab = gguf.GGUFReader(vocab_path)
    for key, field in vocab.fields.items():
        if not key.startswith("tokenizer.") or key in skip:
            continue
        vt = gguf.GGUFValueType(field.types[0])
        if vt == gguf.GGUFValueType.ARRAY:
            writer.add_key_value(key, field.contents(), vt, sub_type=gguf.GGUFValueType(field.types[1]))
        else:
            writer.add_key_value(key, field.contents(), vt)
    return len(vocab.fields["tokenizer.ggml.tokens"].data)
