#pragma once
// Fixture for scheduler_core_purity_catches_impure_include: the purity check must reject this.
#include <string>

#include <Poco/JSON/Object.h>
