/*
 * qutil.dll internals shared between its files
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_QUTIL_PRIVATE_H
#define NAP_QUTIL_PRIVATE_H

#include <windows.h>
#include <objbase.h>
#include "com_server.h"

/* The exports are defined here, so they must not be declared dllimport. */
#define NAPAPI
#include "NapUtil.h"
#include "nap_hresults.h"


HRESULT soh_constructor_create(REFIID riid, void **out);
HRESULT soh_processor_create(REFIID riid, void **out);

/* soh_attribute_value.c: one attribute value between its SoHAttributeValue
 * form (host order) and the bytes of its TLV value (network order). */

/* E_INVALIDARG if the value breaks the rules of its type; *bytes is a
 * CoTaskMem block of *size bytes (NULL when *size is 0). */
HRESULT soh_value_to_wire(UINT16 type, const SoHAttributeValue *value, BYTE **bytes, UINT16 *size);
/* NAP_E_INVALID_PACKET if the bytes are not a valid value of the type; the
 * result is CoTaskMem, all of it freed by FreeSoHAttributeValue. */
HRESULT soh_value_from_wire(UINT16 type, const BYTE *bytes, UINT16 size, SoHAttributeValue **value);

/* S_OK, NAP_E_INVALID_PACKET or E_OUTOFMEMORY: the struct's attributes,
 * serialised as TLVs, checked with the codec's per-SHA rules. */
HRESULT soh_struct_validate(const SoH *soh, BOOL is_request);
/* Copies count attributes (each value its own CoTaskMem block) into a new
 * CoTaskMem SoH that FreeSoH releases. */
HRESULT soh_struct_copy(const SoHAttribute *attributes, UINT16 count, SoH **out);

#endif
