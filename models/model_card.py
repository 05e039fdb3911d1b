"""The model-card template that ``save_pretrained`` writes as README.md beside the weights.

Every model class passes it to ``PyTorchModelHubMixin`` (``model_card_template=MODEL_CARD``);
the training scripts fill in the blanks through ``save_pretrained(..., model_card_kwargs=...)``.
"""

REPO_URL = "https://github.com/generative-models-gallery/generative-models-gallery"

MODEL_CARD = """---
{{ card_data }}
---

# {{ title | default("Generative Models Gallery model", true) }}

{{ description | default("", true) }}

Part of the **Generative Models Gallery** (生成モデル・ギャラリー), an interactive, bilingual
(Japanese / English) Gradio app for teaching classic generative models. Code: {{ repo_url }}

## Training data

{{ data | default("[More Information Needed]", true) }}

## How it was trained

```bash
{{ training_command | default("[More Information Needed]", true) }}
```

## Measured quality

{{ metrics | default("[More Information Needed]", true) }}

## How to load it

```python
{{ usage | default("", true) }}
```
Loading always uses `strict=True` and the safetensors file only.
"""
