/*
 * HRESULT to text, for the messages of napctl and the samples
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_ERRORS_H
#define NAP_ERRORS_H

#include <windows.h>

/* "NAME (meaning)" for the NAP codes and the generic codes the NAP APIs
 * return, e.g. "NAP_E_NOT_REGISTERED (entity not registered)"; never NULL. */
const char *nap_error_name(HRESULT hr);

/* TRUE when hr says that there is no NapAgent to talk to. */
BOOL nap_error_agent_gone(HRESULT hr);

#endif
