/* The openai plugin's manifest (plugin.h; docs/plugin-abi.md "Manifest"): OPENAI_API_KEY
 * and OPENAI_BASE_URL. Plain C so that test stand-ins can carry it too. */
#ifndef LLMHOST_OPENAI_MANIFEST_H
#define LLMHOST_OPENAI_MANIFEST_H

#define LLMH_OPENAI_MANIFEST \
    "{\n" \
    "  \"from_environment\": {\"provider\": \"openai\", \"default\": true},\n" \
    "  \"env\": [\n" \
    "    {\"secret\": \"api_key\", \"from\": [{\"env\": \"OPENAI_API_KEY\"}]},\n" \
    "    {\"config\": \"base_url\", \"from\": [{\"env\": \"OPENAI_BASE_URL\"}, {\"value\": \"https://api.openai.com/v1\"}]}\n" \
    "  ],\n" \
    "  \"secrets\": {\n" \
    "    \"api_key\": {\n" \
    "      \"expected\": true,\n" \
    "      \"hint\": \"export OPENAI_API_KEY, or set \\\"secrets\\\": {\\\"api_key\\\": ...} for this provider\",\n" \
    "      \"missing\": \"(not set; set OPENAI_API_KEY)\"\n" \
    "    }\n" \
    "  },\n" \
    "  \"config\": {\n" \
    "    \"model\": {\"type\": \"string\"},\n" \
    "    \"base_url\": {\"type\": \"string\"}\n" \
    "  }\n" \
    "}\n"

#endif
