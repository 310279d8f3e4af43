/* Japanese query segmentation for Material's search worker (appended to lunr.ja.min.js in the Japanese build only;
   see snnkb/hooks.py). Material cuts the indexed text with TinySegmenter, but it splits a query only at Han runs,
   so a word mixing kana and kanji ("しきい値", "時間ステップ") stays one term that matches no indexed token.
   Here every run of kana/kanji in a query term is cut greedily into the longest pieces found in the index itself
   (the way Material already treats Han), and the pieces of one typed word are all required. */
(function () {
  "use strict";
  var search = lunr.Index.prototype.search;
  var RUN = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}ー]{2,}/gu;

  function pieces(run, index) {
    var out = [];
    for (var i = 0; i < run.length;) {
      var best = 0;
      for (var j = run.length; j > i; j--) {
        if (Object.prototype.hasOwnProperty.call(index, run.slice(i, j))) { best = j; break; }
      }
      if (!best) { out.push(run.slice(i)); break; }  // nothing indexed starts here: keep the rest as a prefix
      out.push(run.slice(i, best));
      i = best;
    }
    return out;
  }

  lunr.Index.prototype.search = function (query) {
    var index = this.invertedIndex;
    var terms = query.split(/\s+/).map(function (term) {
      var m = /^([+-]?)([^*~^]*)(\*?)$/.exec(term);
      if (!m || m[1] === "-" || !m[2]) return term;
      var parts = [];
      var rest = m[2].replace(RUN, function (run) {
        if (Object.prototype.hasOwnProperty.call(index, run)) return run;
        var p = pieces(run, index);
        if (p.length < 2) return run;
        parts = parts.concat(p);
        return "";
      });
      if (!parts.length) return term;
      if (rest) parts.push(rest);
      return parts.map(function (p) { return "+" + p + "*"; }).join(" ");
    });
    return search.call(this, terms.join(" "));
  };
})();
