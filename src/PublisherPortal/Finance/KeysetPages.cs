namespace PublisherPortal.Finance;

/// <summary>
/// Remembers where each page a person has visited starts, so "previous" goes back by key as exactly as "next" goes on.
/// </summary>
public sealed class KeysetPages<TCursor> where TCursor : struct
{
    private readonly List<TCursor?> _starts = [null];

    public int PageIndex { get; private set; }

    /// <summary>Where the current page starts; null for the first page.</summary>
    public TCursor? CurrentStart => _starts[PageIndex];

    public TCursor? Next { get; private set; }

    public bool HasNext => Next is not null;

    public int RowsOnPage { get; private set; }

    public void Loaded(int rows, TCursor? next)
    {
        RowsOnPage = rows;
        Next = next;
    }

    public bool MoveNext()
    {
        if (Next is not { } next)
        {
            return false;
        }

        PageIndex++;
        if (_starts.Count == PageIndex)
        {
            _starts.Add(next);
        }
        else
        {
            _starts[PageIndex] = next;
        }

        return true;
    }

    public bool MovePrevious()
    {
        if (PageIndex == 0)
        {
            return false;
        }

        PageIndex--;
        return true;
    }

    public void Reset()
    {
        _starts.Clear();
        _starts.Add(null);
        PageIndex = 0;
        Next = null;
        RowsOnPage = 0;
    }
}
