/*
 * The samples' network: frames of a 2-byte big-endian length and the bytes, over TCP
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_SAMPLE_NET_H
#define NAP_SAMPLE_NET_H

#include <winsock2.h>
#include <windows.h>

/* FALSE on close, error or timeout. */
BOOL send_all(SOCKET s, const BYTE *buf, int len);
BOOL recv_all(SOCKET s, BYTE *buf, int len);
/* One frame; FALSE also when it is longer than cap. */
BOOL recv_frame(SOCKET s, BYTE *buf, size_t cap, size_t *len);
BOOL send_frame(SOCKET s, const BYTE *data, size_t len);

#endif
