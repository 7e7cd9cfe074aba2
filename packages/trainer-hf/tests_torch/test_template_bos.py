"""No second BOS: rendered rows are tokenized as apply_chat_template(tokenize=True) tokenizes them.

Tokenizers built like Llama-3's and R1-Distill's (a post-processor that puts BOS in front of
every encoding), with the studio's llama3 and deepseek-r1 templates, whose renders already start
with BOS. Nothing is downloaded.
"""

import unittest

from .helpers import require_torch_stack

require_torch_stack()

from distillery_trainer.templates import chat_template_for, encode_rendered  # noqa: E402


def make_bos_tokenizer(bos: str, eos: str, specials: list):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    words = ["user", "assistant", "system", "Hi", "Hello", "there", "Be", "brief."]
    vocab = {tok: i for i, tok in enumerate(["<unk>", bos, eos, *specials, *words])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.add_special_tokens([bos, eos, *specials])
    tok.post_processor = processors.TemplateProcessing(single=f"{bos} $A", special_tokens=[(bos, vocab[bos])])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=bos, eos_token=eos, unk_token="<unk>")


def ids_of(encoded) -> list:
    # transformers 4.x returns the ids; 5.x a BatchEncoding
    return list(encoded["input_ids"]) if hasattr(encoded, "keys") else list(encoded)


class NoDoubleBos(unittest.TestCase):
    cases = {
        "llama3": ("<|begin_of_text|>", "<|eot_id|>", ["<|start_header_id|>", "<|end_header_id|>"]),
        "deepseek-r1": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", ["<｜User｜>", "<｜Assistant｜>", "<think>", "</think>"]),
    }
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}]

    def test_prompt_ids_equal_apply_chat_template_with_one_bos(self) -> None:
        for template_id, (bos, eos, specials) in self.cases.items():
            with self.subTest(template=template_id):
                tok = make_bos_tokenizer(bos, eos, specials)
                tok.chat_template = chat_template_for(template_id, None)
                rendered = tok.apply_chat_template(self.messages, tokenize=False, add_generation_prompt=True)
                self.assertTrue(rendered.startswith(bos), rendered)
                ids = encode_rendered(tok, rendered)
                expected = ids_of(tok.apply_chat_template(self.messages, tokenize=True, add_generation_prompt=True))
                self.assertEqual(ids, expected)
                self.assertEqual(ids.count(tok.bos_token_id), 1)
                # what the trainer did before: the tokenizer's own BOS in front of the template's
                doubled = tok(rendered, add_special_tokens=True)["input_ids"]
                self.assertEqual(doubled[:2], [tok.bos_token_id, tok.bos_token_id])


if __name__ == "__main__":
    unittest.main()
