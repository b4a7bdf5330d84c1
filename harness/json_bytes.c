/*
 * json_bytes.c - byte strings in cJSON trees, kept exact (json_bytes.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "harness/json_bytes.h"

bool harness_is_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			n = 1, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			n = 2, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			n = 3, cp = c & 0x07;
		else
			return false;
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

cJSON *harness_json_base64(const unsigned char *data, size_t len)
{
	char *text = malloc(4 * ((len + 2) / 3) + 1);
	cJSON *item;

	if (!text)
		return NULL;
	EVP_EncodeBlock((unsigned char *)text, data, (int)len);
	item = cJSON_CreateString(text);
	free(text);
	return item;
}

int harness_base64_decode(const char *text, unsigned char **out, size_t *len)
{
	size_t n = strlen(text), pad = 0;
	unsigned char *data;
	int decoded;

	if (n % 4 != 0)
		return -1;
	data = malloc(n / 4 * 3 + 1);
	if (!data)
		return -1;
	decoded = n ? EVP_DecodeBlock(data, (const unsigned char *)text, (int)n)
		    : 0;
	if (decoded < 0) {
		free(data);
		return -1;
	}

	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (n && text[n - 1] == '=')
		pad++;
	if (n && text[n - 2] == '=')
		pad++;
	*len = (size_t)decoded - pad;
	data[*len] = '\0';
	*out = data;
	return 0;
}

cJSON *harness_json_bytes(const char *data, size_t len)
{
	cJSON *obj, *b64;

	if (!data)
		return cJSON_CreateNull();
	if (harness_is_utf8((const unsigned char *)data, len) &&
	    strlen(data) == len)
		return cJSON_CreateString(data);

	obj = cJSON_CreateObject();
	b64 = harness_json_base64((const unsigned char *)data, len);
	if (!obj || !b64 || !cJSON_AddItemToObject(obj, "base64", b64)) {
		cJSON_Delete(obj);
		cJSON_Delete(b64);
		return NULL;
	}
	return obj;
}

cJSON *harness_json_text(const char *s)
{
	return harness_json_bytes(s, s ? strlen(s) : 0);
}

int harness_json_read_text(const cJSON *item, char **out)
{
	const cJSON *b64;
	unsigned char *data;
	size_t len;

	*out = NULL;
	if (cJSON_IsString(item)) {
		*out = strdup(item->valuestring);
		return *out ? 0 : -1;
	}
	b64 = cJSON_GetObjectItemCaseSensitive(item, "base64");
	if (!cJSON_IsObject(item) || !cJSON_IsString(b64) ||
	    cJSON_GetArraySize(item) != 1)
		return 1;
	if (harness_base64_decode(b64->valuestring, &data, &len) < 0)
		return 1;
	if (memchr(data, '\0', len)) {
		free(data);
		return 1;
	}
	*out = (char *)data;
	return 0;
}

const char *const harness_event_text_members[HARNESS_EVENT_TEXT_MEMBERS] = {
	"path", "attempted", "command", "resolved",
};

int harness_json_decode_members(cJSON *object, const char *const *names,
				size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cJSON *item = cJSON_GetObjectItemCaseSensitive(object,
							       names[i]);
		cJSON *text;
		char *bytes;
		int rc;

		if (!cJSON_IsObject(item))
			continue;
		rc = harness_json_read_text(item, &bytes);
		if (rc < 0)
			return -1;
		if (rc > 0)
			continue;
		text = cJSON_CreateString(bytes);
		free(bytes);
		if (!text || !cJSON_ReplaceItemInObjectCaseSensitive(
				     object, names[i], text)) {
			cJSON_Delete(text);
			return -1;
		}
	}
	return 0;
}
