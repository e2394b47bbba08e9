/* json_nul.c - see json_nul.h. */
#include "json_nul.h"

long long gq_json_nul_string(const char *text, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (text[i] != '"') {
            i++;
            continue;
        }
        size_t open = i++;
        while (i < len && text[i] != '"') {
            if (text[i] == 0)
                return (long long)open;
            if (text[i] == '\\' && i + 1 < len) {
                if (text[i + 1] == 'u' && i + 5 < len && text[i + 2] == '0' && text[i + 3] == '0' &&
                    text[i + 4] == '0' && text[i + 5] == '0')
                    return (long long)open;
                i += 2; /* the escaped character, whatever it is, does not end the string */
                continue;
            }
            i++;
        }
        i++; /* past the closing quote */
    }
    return -1;
}
