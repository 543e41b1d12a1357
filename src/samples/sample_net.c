/*
 * The samples' network: frames of a 2-byte big-endian length and the bytes, over TCP
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sample_net.h"

BOOL send_all(SOCKET s, const BYTE *buf, int len)
{
    int sent;

    while (len > 0)
    {
        if ((sent = send(s, (const char *)buf, len, 0)) <= 0) return FALSE;
        buf += sent;
        len -= sent;
    }
    return TRUE;
}

BOOL recv_all(SOCKET s, BYTE *buf, int len)
{
    int got;

    while (len > 0)
    {
        if ((got = recv(s, (char *)buf, len, 0)) <= 0) return FALSE;
        buf += got;
        len -= got;
    }
    return TRUE;
}

BOOL recv_frame(SOCKET s, BYTE *buf, size_t cap, size_t *len)
{
    BYTE header[2];

    if (!recv_all(s, header, 2)) return FALSE;
    *len = (header[0] << 8) | header[1];
    if (*len > cap) return FALSE;
    return recv_all(s, buf, (int)*len);
}

BOOL send_frame(SOCKET s, const BYTE *data, size_t len)
{
    BYTE header[2] = { (BYTE)(len >> 8), (BYTE)len };

    return send_all(s, header, 2) && send_all(s, data, (int)len);
}
