window.QALQAN_API = "";
