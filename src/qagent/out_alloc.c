/*
 * What qagent.dll's methods hand out: CoTaskMem blocks as qutil's Free* functions free them
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "qagent_private.h"

HRESULT counted_string_copy(const WCHAR *text, UINT16 length, CountedString *out)
{
    out->length = 0;
    if (!(out->string = CoTaskMemAlloc((length + 1) * sizeof(WCHAR)))) return E_OUTOFMEMORY;
    if (length) memcpy(out->string, text, length * sizeof(WCHAR));
    out->string[length] = 0;
    out->length = length;
    return S_OK;
}

/* IsolationInfoEx is IsolationInfo with the extended state in the middle. */
HRESULT isolation_info_make(const struct isolation_facts *facts, BOOL extended, void **out)
{
    IsolationInfoEx *info_ex;
    IsolationInfo *info;
    HRESULT hr;

    if (!extended)
    {
        if (!(info = CoTaskMemAlloc(sizeof(*info)))) return E_OUTOFMEMORY;
        info->isolationState = facts->state;
        info->probEndTime = facts->prob_end_time;
        if (FAILED(hr = counted_string_copy(facts->url, facts->url_length, &info->failureUrl))) CoTaskMemFree(info);
        else *out = info;
        return hr;
    }
    if (!(info_ex = CoTaskMemAlloc(sizeof(*info_ex)))) return E_OUTOFMEMORY;
    info_ex->isolationState = facts->state;
    info_ex->extendedIsolationState = facts->extended_state;
    info_ex->probEndTime = facts->prob_end_time;
    if (FAILED(hr = counted_string_copy(facts->url, facts->url_length, &info_ex->failureUrl))) CoTaskMemFree(info_ex);
    else *out = info_ex;
    return hr;
}

/* The format is undocumented; "{guid}-<time>" keeps both halves readable in
 * logs, the time as 16 uppercase hex digits, high part first, so that the
 * text sorts like the time it stands for. */
HRESULT correlation_string(const CorrelationId *id, StringCorrelationId **out)
{
    static const WCHAR hex[] = L"0123456789ABCDEF";
    ULONGLONG time = ((ULONGLONG)id->timeStamp.dwHighDateTime << 32) | id->timeStamp.dwLowDateTime;
    WCHAR text[39 + 16 + 1];
    StringCorrelationId *string;
    HRESULT hr;
    int i;

    StringFromGUID2(&id->connId, text, 39);
    text[38] = '-';
    for (i = 15; i >= 0; i--, time >>= 4) text[39 + i] = hex[time & 0xf];
    text[39 + 16] = 0;
    if (!(string = CoTaskMemAlloc(sizeof(*string)))) return E_OUTOFMEMORY;
    if (FAILED(hr = counted_string_copy(text, 39 + 16, string)))
    {
        CoTaskMemFree(string);
        return hr;
    }
    *out = string;
    return S_OK;
}
