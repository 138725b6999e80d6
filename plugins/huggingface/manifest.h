/* The huggingface plugin's manifest (plugin.h, ABI 1.2; docs/plugin-abi.md "Manifest"): the
 * huggingface_hub environment variables it reads, its token, its config keys and --device. The
 * host reads it from the descriptor; plain C so that test stand-ins can carry it too. */
#ifndef LLMHOST_HUGGINGFACE_MANIFEST_H
#define LLMHOST_HUGGINGFACE_MANIFEST_H

#define LLMH_HUGGINGFACE_MANIFEST \
    "{\n" \
    "  \"from_environment\": {\"provider\": \"huggingface\"},\n" \
    "  \"env\": [\n" \
    "    {\"secret\": \"token\", \"from\": [\n" \
    "      {\"env\": \"HF_TOKEN\"},\n" \
    "      {\"env\": \"HUGGING_FACE_HUB_TOKEN\"},\n" \
    "      {\"file\": \"${HF_TOKEN_PATH:-${HF_HOME:-${XDG_CACHE_HOME:-${HOME:-/}/.cache}/huggingface}/token}\", \"source\": \"token file\"}]},\n" \
    "    {\"config\": \"model_path\", \"type\": \"path\", \"from\": [{\"env\": \"HF_MODEL_PATH\"}]},\n" \
    "    {\"config\": \"device\", \"from\": [{\"env\": \"HF_DEVICE\"}]},\n" \
    "    {\"config\": \"endpoint\", \"from\": [{\"env\": \"HF_ENDPOINT\"}, {\"value\": \"https://huggingface.co\"}]},\n" \
    "    {\"config\": \"cache_dir\", \"type\": \"path\", \"from\": [\n" \
    "      {\"env\": \"HF_HUB_CACHE\"},\n" \
    "      {\"env\": \"HUGGINGFACE_HUB_CACHE\"},\n" \
    "      {\"value\": \"${HF_HOME}/hub\", \"source\": \"HF_HOME\"},\n" \
    "      {\"value\": \"${XDG_CACHE_HOME:-${HOME:-/}/.cache}/huggingface/hub\"}]},\n" \
    "    {\"config\": \"offline\", \"type\": \"bool\", \"from\": [{\"env\": \"HF_HUB_OFFLINE\"}, {\"env\": \"TRANSFORMERS_OFFLINE\"}]},\n" \
    "    {\"config\": \"download_timeout\", \"from\": [{\"env\": \"HF_HUB_DOWNLOAD_TIMEOUT\"}]},\n" \
    "    {\"config\": \"etag_timeout\", \"from\": [{\"env\": \"HF_HUB_ETAG_TIMEOUT\"}]}\n" \
    "  ],\n" \
    "  \"secrets\": {\n" \
    "    \"token\": {\n" \
    "      \"expected\": true,\n" \
    "      \"warning\": \"no Hugging Face token: public models work, but gated and private ones need HF_TOKEN (create a token at https://huggingface.co/settings/tokens, then export HF_TOKEN=... or put it in ~/.cache/huggingface/token)\",\n" \
    "      \"hint\": \"create one at https://huggingface.co/settings/tokens and export HF_TOKEN (docs/huggingface-token.md)\",\n" \
    "      \"missing\": \"(not set: public models only; set HF_TOKEN)\"\n" \
    "    }\n" \
    "  },\n" \
    "  \"config\": {\n" \
    "    \"device\": {\"type\": \"string\", \"pattern\": \"auto|cpu|cuda|cuda:[0-9]+\", \"hint\": \"use auto, cpu, cuda or cuda:N (N = GPU index)\"},\n" \
    "    \"model\": {\"type\": \"string\"},\n" \
    "    \"model_path\": {\"type\": \"path\"},\n" \
    "    \"endpoint\": {\"type\": \"string\"},\n" \
    "    \"cache_dir\": {\"type\": \"path\"},\n" \
    "    \"offline\": {\"type\": \"bool\"}\n" \
    "  },\n" \
    "  \"flags\": {\"--device\": \"device\"}\n" \
    "}\n"

#endif
