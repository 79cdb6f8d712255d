// The whole public C++ API of nearstore.
#pragma once

#include "nearstore/collection.h"
#include "nearstore/database.h"
#include "nearstore/filter.h"
#include "nearstore/options.h"
#include "nearstore/status.h"
#include "nearstore/types.h"
#include "nearstore/verify.h"
